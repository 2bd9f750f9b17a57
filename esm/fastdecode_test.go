package esm_test

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"
	"unsafe"
	"weak"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/esmkit/esmkit/esm"
	"github.com/esmkit/esmkit/internal/event"
	"github.com/esmkit/esmkit/internal/testserver"
	"github.com/esmkit/esmkit/kinesistest"
)

// overHTTP serves a fresh kinesistest over HTTP until the test ends, and
// returns it and a real *kinesis.Client pointed at it.
func overHTTP(t *testing.T) (*kinesistest.Client, *kinesis.Client) {
	kc := kinesistest.New()
	srv := kinesistest.NewServer(kc)
	t.Cleanup(srv.Close)
	return kc, testserver.KinesisClient(t, srv.URL)
}

// TestFastDecodeDeliversTheSameEvents runs the same stream, served over
// HTTP by kinesistest, through a real *kinesis.Client with the SDK's
// decoder and with FastDecode: the handler gets identical events.
func TestFastDecodeDeliversTheSameEvents(t *testing.T) {
	_, api := overHTTP(t)
	arn := createStream(t, api, "fast", 2)
	recs := makeRecs("f", 500, 20)
	recs = append(recs, rec{Key: "ünïcode <&>", Data: "\x00\xff binary"}, rec{Key: "k", Data: ""})
	put(t, api, "fast", recs)

	seen := map[bool]map[string]string{}
	for _, fast := range []bool{false, true} {
		got := map[string]string{}
		var mu sync.Mutex
		c := newCollector(len(recs))
		c.onBatch = func(ev events.KinesisEvent) {
			mu.Lock()
			defer mu.Unlock()
			for _, r := range ev.Records {
				b, _ := json.Marshal(r)
				got[r.EventID] = string(b)
			}
		}
		stop := run(t, newMapping(t, api, arn, c.handle, esm.StartingPosition(esm.TrimHorizon), esm.BatchSize(100),
			esm.FastDecode(fast), esm.Name(fmt.Sprint("fast-", fast))))
		c.wait(t, time.Minute)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		checkExactlyOnceInOrder(t, c.records(), recs)
		seen[fast] = got
	}
	if len(seen[true]) != len(recs) {
		t.Fatalf("fast decode delivered %d records, want %d", len(seen[true]), len(recs))
	}
	for id, want := range seen[false] {
		if got := seen[true][id]; got != want {
			t.Errorf("record %s:\nfast %s\nSDK  %s", id, got, want)
		}
	}
}

// TestFastDecodeKeepsThePayloadLimit reads records of 1 MiB through a real
// client, with either decoder: the event records the fast decoder builds
// itself must be measured as converted ones are, so that the 6 MB limit
// cuts the batches where it does on the SDK path.
func TestFastDecodeKeepsThePayloadLimit(t *testing.T) {
	_, api := overHTTP(t)
	arn := createStream(t, api, "big", 1)
	recs := make([]rec, 10)
	for i := range recs {
		data := make([]byte, 1<<20-1)
		copy(data, fmt.Sprint(i))
		recs[i] = rec{Key: "k", Data: string(data)}
	}
	put(t, api, "big", recs)
	for _, fast := range []bool{false, true} {
		c := newCollector(len(recs))
		var mu sync.Mutex
		var maxPayload int
		c.onBatch = func(ev events.KinesisEvent) {
			b, _ := json.Marshal(ev)
			mu.Lock()
			defer mu.Unlock()
			maxPayload = max(maxPayload, len(b))
		}
		stop := run(t, newMapping(t, api, arn, c.handle, esm.StartingPosition(esm.TrimHorizon), esm.BatchSize(100),
			esm.FastDecode(fast), esm.Name(fmt.Sprint("big-", fast))))
		c.wait(t, time.Minute)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		// 1 MiB of data is about 1.4 MB of base64: four fit in 6 MB.
		if got := fmt.Sprint(c.batchSizes()); got != "[4 4 2]" {
			t.Errorf("fast %v: batch sizes %s, want [4 4 2]", fast, got)
		}
		if maxPayload > event.MaxPayload {
			t.Errorf("fast %v: largest payload %d bytes, want <= %d", fast, maxPayload, event.MaxPayload)
		}
		checkExactlyOnceInOrder(t, c.records(), recs)
	}
}

// TestReadPagesAreReleased reads a stream through a real client, with
// either decoder, and checks, while the mapping runs, that the memory
// of records finished long ago (their Data block, eventID and event record)
// has been collected. It once was not: every page kept the page before it
// alive, about 1.1 KB per record read.
func TestReadPagesAreReleased(t *testing.T) {
	for _, fast := range []bool{true, false} {
		t.Run(fmt.Sprint("FastDecode=", fast), func(t *testing.T) { testPagesReleased(t, fast) })
	}
}

func testPagesReleased(t *testing.T, fast bool) {
	kc, api := overHTTP(t)
	arn, err := kc.AddStream("mem", 1)
	if err != nil {
		t.Fatal(err)
	}
	const total, early, check = 40_000, 5_000, 30_000
	data := make([]byte, 1024)
	for range total {
		if _, _, err := kc.Put(t.Context(), "mem", "k", data); err != nil {
			t.Fatal(err)
		}
	}
	var (
		seen  int
		weaks []weak.Pointer[byte]
		recs  []weak.Pointer[events.KinesisEventRecord]
		alive = -1
		done  = make(chan struct{})
	)
	h := func(_ context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
		if seen < early {
			r := &ev.Records[0]
			weaks = append(weaks, weak.Make(&r.Kinesis.Data[0]), weak.Make(unsafe.StringData(r.EventID)))
			recs = append(recs, weak.Make(r))
		}
		before := seen
		seen += len(ev.Records)
		if before < check && seen >= check {
			runtime.GC()
			runtime.GC()
			alive = 0
			for _, w := range weaks {
				if w.Value() != nil {
					alive++
				}
			}
			for _, w := range recs {
				if w.Value() != nil {
					alive++
				}
			}
		}
		if before < total && seen >= total {
			close(done)
		}
		return events.KinesisEventResponse{}, nil
	}
	stop := run(t, newMapping(t, api, arn, h, esm.StartingPosition(esm.TrimHorizon), esm.BatchSize(1000), esm.ReadRateLimit(0), esm.FastDecode(fast)))
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("read %d of %d records in 2 minutes", seen, total)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if len(weaks) == 0 || alive != 0 {
		t.Errorf("at record %d, %d of %d pieces of the first %d records' memory are still reachable", check, alive, len(weaks)+len(recs), early)
	}
}
