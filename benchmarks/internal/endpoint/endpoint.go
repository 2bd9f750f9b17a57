// Package endpoint is the server side of a benchmark run: a kinesistest
// Client served over HTTP (JSON 1.1, kinesistest.NewHandler) on one port,
// counting its open connections, and a control API on another port that
// loads streams, produces paced records and reports counters.
package endpoint

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/esmkit/esmkit/kinesistest"
)

// Addrs are the two URLs an endpoint process prints as its first line.
type Addrs struct {
	Kinesis string `json:"kinesis"`
	Control string `json:"control"`
}

// Stats are the endpoint's counters, as GET /stats returns them.
type Stats struct {
	Open       int   `json:"open"`        // Kinesis connections open now
	Peak       int   `json:"peak"`        // most open at once since the last reset
	GetRecords int   `json:"get_records"` // GetRecords calls served (kinesistest Calls)
	Throttled  int64 `json:"throttled"`   // responses with ProvisionedThroughputExceededException
	CPUNS      int64 `json:"cpu_ns"`      // user+sys of the endpoint process so far
}

// Endpoint is a running endpoint. Close stops both servers.
type Endpoint struct {
	Addrs Addrs
	c     *kinesistest.Client
	kin   *http.Server
	ctl   *http.Server

	throttled atomic.Int64

	mu   sync.Mutex // guards open and peak
	open int
	peak int
}

// Start serves a new kinesistest Client on two loopback ports. readRate > 0
// enables kinesistest.ShardReadRate(readRate).
func Start(readRate int) (*Endpoint, error) {
	e := &Endpoint{c: kinesistest.New(kinesistest.ShardReadRate(readRate))}
	kln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	cln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = kln.Close()
		return nil, err
	}
	e.Addrs = Addrs{Kinesis: "http://" + kln.Addr().String(), Control: "http://" + cln.Addr().String()}
	quiet := log.New(io.Discard, "", 0)
	h := kinesistest.NewHandler(e.c)
	count := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		// The handler sets the error type header before writing the body.
		if w.Header().Get("X-Amzn-Errortype") == "ProvisionedThroughputExceededException" {
			e.throttled.Add(1)
		}
	})
	e.kin = &http.Server{Handler: count, ConnState: e.connState, ErrorLog: quiet}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /load", e.serveLoad)
	mux.HandleFunc("POST /stream", e.serveStream)
	mux.HandleFunc("POST /produce", e.serveProduce)
	mux.HandleFunc("GET /stats", e.serveStats)
	mux.HandleFunc("POST /reset", e.serveReset)
	e.ctl = &http.Server{Handler: mux, ErrorLog: quiet}
	go func() { _ = e.kin.Serve(kln) }()
	go func() { _ = e.ctl.Serve(cln) }()
	return e, nil
}

// Close stops serving.
func (e *Endpoint) Close() {
	_ = e.kin.Close()
	_ = e.ctl.Close()
}

func (e *Endpoint) connState(_ net.Conn, s http.ConnState) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch s {
	case http.StateNew:
		e.open++
		e.peak = max(e.peak, e.open)
	case http.StateClosed, http.StateHijacked:
		e.open--
	}
}

func (e *Endpoint) stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return Stats{
		Open: e.open, Peak: e.peak, GetRecords: e.c.Calls("GetRecords"), Throttled: e.throttled.Load(),
		CPUNS: ru.Utime.Nano() + ru.Stime.Nano(),
	}
}

func (e *Endpoint) serveStats(w http.ResponseWriter, _ *http.Request) { writeJSON(w, e.stats()) }

func (e *Endpoint) serveReset(w http.ResponseWriter, _ *http.Request) {
	e.mu.Lock()
	e.peak = e.open
	e.mu.Unlock()
	writeJSON(w, e.stats())
}

// serveStream creates an empty stream: ?name=&shards=.
func (e *Endpoint) serveStream(w http.ResponseWriter, r *http.Request) {
	shards, err := intParam(r, "shards")
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	arn, err := e.c.AddStream(r.FormValue("name"), shards)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	writeJSON(w, map[string]string{"arn": arn})
}

// serveLoad creates a stream and fills it: ?name=&shards=&per_shard=&size=
// puts per_shard records of size bytes of random data into every shard
// (routed by ExplicitHashKey, so the shards hold exactly per_shard each).
func (e *Endpoint) serveLoad(w http.ResponseWriter, r *http.Request) {
	var p [3]int
	for i, k := range []string{"shards", "per_shard", "size"} {
		v, err := intParam(r, k)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		p[i] = v
	}
	name := r.FormValue("name")
	arn, err := e.c.AddStream(name, p[0])
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := e.load(r.Context(), name, p[1], p[2]); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, map[string]string{"arn": arn})
}

func (e *Endpoint) load(ctx context.Context, name string, perShard, size int) error {
	keys, err := e.hashKeys(ctx, name)
	if err != nil {
		return err
	}
	pool := make([]byte, 1<<20+size)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range pool {
		pool[i] = byte(rng.Uint32())
	}
	in := &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: make([]types.PutRecordsRequestEntry, 0, 500)}
	pk := aws.String("k")
	for _, key := range keys {
		for i := 0; i < perShard; {
			in.Records = in.Records[:0]
			for ; i < perShard && len(in.Records) < 500; i++ {
				off := rng.IntN(1 << 20)
				in.Records = append(in.Records, types.PutRecordsRequestEntry{
					Data: pool[off : off+size], PartitionKey: pk, ExplicitHashKey: key,
				})
			}
			if _, err := e.c.PutRecords(ctx, in); err != nil {
				return err
			}
		}
	}
	return nil
}

// hashKeys returns each shard's starting hash key, in shard order.
func (e *Endpoint) hashKeys(ctx context.Context, name string) ([]*string, error) {
	out, err := e.c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(name)})
	if err != nil {
		return nil, err
	}
	keys := make([]*string, len(out.Shards))
	for i, sh := range out.Shards {
		keys[i] = sh.HashKeyRange.StartingHashKey
	}
	return keys, nil
}

// serveProduce puts n records of size bytes, one every interval, round
// robin over the shards: ?name=&n=&size=&interval=. Each record's data
// starts with the time of its put in Unix nanoseconds, big-endian. It
// returns when all are put.
func (e *Endpoint) serveProduce(w http.ResponseWriter, r *http.Request) {
	n, err1 := intParam(r, "n")
	size, err2 := intParam(r, "size")
	every, err3 := time.ParseDuration(r.FormValue("interval"))
	if err := firstErr(err1, err2, err3); err != nil || size < 8 || every <= 0 {
		http.Error(w, fmt.Sprintf("bad parameters: %v", err), http.StatusBadRequest)
		return
	}
	name := r.FormValue("name")
	ctx := r.Context()
	keys, err := e.hashKeys(ctx, name)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	data := make([]byte, size)
	in := &kinesis.PutRecordsInput{StreamName: aws.String(name), Records: make([]types.PutRecordsRequestEntry, 1)}
	for i := range n {
		if i > 0 {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
		binary.BigEndian.PutUint64(data, uint64(time.Now().UnixNano()))
		in.Records[0] = types.PutRecordsRequestEntry{Data: data, PartitionKey: aws.String(strconv.Itoa(i)), ExplicitHashKey: keys[i%len(keys)]}
		if _, err := e.c.PutRecords(ctx, in); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	writeJSON(w, map[string]int{"put": n})
}

func intParam(r *http.Request, k string) (int, error) {
	v, err := strconv.Atoi(r.FormValue(k))
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("parameter %s=%q: want a positive integer", k, r.FormValue(k))
	}
	return v, nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
