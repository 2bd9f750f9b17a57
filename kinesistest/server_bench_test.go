package kinesistest_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/esmkit/esmkit/kinesistest"
)

// benchShard returns a Client on a fixed clock holding n records of size
// bytes in stream "s" (one shard), and a TRIM_HORIZON iterator for it.
func benchShard(b *testing.B, n, size int) (*kinesistest.Client, string) {
	b.Helper()
	ctx := context.Background()
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	c := kinesistest.New(kinesistest.Clock(func() time.Time { return now }))
	if _, err := c.AddStream(stream, 1); err != nil {
		b.Fatal(err)
	}
	data := bytes.Repeat([]byte{0xa5, 0x5a, 0x00, 0xff}, size/4+1)[:size]
	entries := make([]types.PutRecordsRequestEntry, 500)
	for i := range entries {
		entries[i] = types.PutRecordsRequestEntry{PartitionKey: ptr(fmt.Sprint("partition-key-", i)), Data: data}
	}
	for range n / len(entries) {
		if _, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: ptr(stream), Records: entries}); err != nil {
			b.Fatal(err)
		}
	}
	it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
		StreamName: ptr(stream), ShardId: ptr("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
	})
	if err != nil {
		b.Fatal(err)
	}
	return c, *it.ShardIterator
}

// discardWriter is an http.ResponseWriter that counts and drops the body.
type discardWriter struct {
	h http.Header
	n int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(int)             {}
func (w *discardWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// BenchmarkServerHandlerGetRecords measures the handler alone on one
// goroutine: decoding the request, GetRecords, encoding the response.
// MB/s counts record data, not base64.
func BenchmarkServerHandlerGetRecords(b *testing.B) {
	for _, size := range []int{100, 1024} {
		for _, limit := range []int{100, 1000, 10000} {
			b.Run(fmt.Sprintf("size=%d/limit=%d", size, limit), func(b *testing.B) {
				c, it := benchShard(b, 10000, size)
				h := kinesistest.NewHandler(c)
				body := []byte(fmt.Sprintf(`{"ShardIterator":%q,"Limit":%d}`, it, limit))
				rd := bytes.NewReader(body)
				req, err := http.NewRequest("POST", "/", nil)
				if err != nil {
					b.Fatal(err)
				}
				req.Header.Set("X-Amz-Target", "Kinesis_20131202.GetRecords")
				req.Header.Set("Content-Type", "application/x-amz-json-1.1")
				req.ContentLength = int64(len(body))
				req.Body = io.NopCloser(rd)
				w := &discardWriter{h: make(http.Header)}
				b.SetBytes(int64(size * limit))
				b.ReportAllocs()
				for b.Loop() {
					rd.Reset(body)
					w.n = 0
					h.ServeHTTP(w, req)
				}
				if w.n < size*limit {
					b.Fatalf("got a body of %d bytes, want ≥ %d", w.n, size*limit)
				}
				b.ReportMetric(float64(b.N)*float64(limit)/b.Elapsed().Seconds(), "records/s")
			})
		}
	}
}

// getRecordsLoop posts GetRecords for it n times over conns connections
// and discards the responses, as a consumer that does not decode.
func getRecordsLoop(url, it string, limit, n, conns int) (records int, err error) {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, DisableCompression: true, ReadBufferSize: 64 << 10}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	body := fmt.Sprintf(`{"ShardIterator":%q,"Limit":%d}`, it, limit)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := range conns {
		wg.Go(func() {
			buf := make([]byte, 1<<20) // large reads, as a decoding consumer would do
			for i := g; i < n; i += conns {
				req, _ := http.NewRequestWithContext(context.Background(), "POST", url, strings.NewReader(body))
				req.Header.Set("X-Amz-Target", "Kinesis_20131202.GetRecords")
				req.Header.Set("Content-Type", "application/x-amz-json-1.1")
				resp, e := client.Do(req)
				if e == nil {
					_, e = io.CopyBuffer(struct{ io.Writer }{io.Discard}, resp.Body, buf)
					resp.Body.Close()
					if e == nil && resp.StatusCode != 200 {
						e = fmt.Errorf("status %s", resp.Status)
					}
				}
				mu.Lock()
				if e != nil && err == nil {
					err = e
				}
				records += limit
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return records, err
}

// BenchmarkServerGetRecords measures the Server over loopback with
// consumers that read the raw response and do not decode it, in this
// process.
func BenchmarkServerGetRecords(b *testing.B) {
	for _, conns := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("size=1024/limit=10000/conns=%d", conns), func(b *testing.B) {
			c, it := benchShard(b, 10000, 1024)
			srv := kinesistest.NewServer(c)
			defer srv.Close()
			b.SetBytes(1024 * 10000)
			b.ReportAllocs()
			b.ResetTimer()
			recs, err := getRecordsLoop(srv.URL, it, 10000, b.N, conns)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(recs)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkServerGetRecordsProcess is BenchmarkServerGetRecords with the
// consumer in another process (this test binary, run as
// BenchmarkServerConsumerProcess), as in a benchmark of a consumer. The
// consumer reports its own records/s, which leaves out its start-up.
func BenchmarkServerGetRecordsProcess(b *testing.B) {
	for _, conns := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("size=1024/limit=10000/conns=%d", conns), func(b *testing.B) {
			c, it := benchShard(b, 10000, 1024)
			srv := kinesistest.NewServer(c)
			defer srv.Close()
			cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^BenchmarkServerConsumerProcess$", "-test.benchtime=1x")
			cmd.Env = append(os.Environ(), "KINESISTEST_CONSUMER="+strings.Join([]string{srv.URL, it, strconv.Itoa(b.N), strconv.Itoa(conns)}, " "))
			b.SetBytes(1024 * 10000)
			b.ResetTimer()
			out, err := cmd.CombinedOutput()
			if err != nil {
				b.Fatalf("consumer: %v\n%s", err, out)
			}
			_, rest, ok := strings.Cut(string(out), "consumer-records/s=")
			rate, _, _ := strings.Cut(rest, "\n")
			v, perr := strconv.ParseFloat(rate, 64)
			if !ok || perr != nil {
				b.Fatalf("consumer printed no rate:\n%s", out)
			}
			b.ReportMetric(v, "records/s")
		})
	}
}

// BenchmarkServerConsumerProcess is the consumer process of
// BenchmarkServerGetRecordsProcess; run on its own it does nothing.
func BenchmarkServerConsumerProcess(b *testing.B) {
	args := strings.Fields(os.Getenv("KINESISTEST_CONSUMER"))
	if len(args) != 4 {
		b.Skip("the consumer process of BenchmarkServerGetRecordsProcess")
	}
	n, _ := strconv.Atoi(args[2])
	conns, _ := strconv.Atoi(args[3])
	start := time.Now()
	recs, err := getRecordsLoop(args[0], args[1], 10000, n, conns)
	if err != nil {
		b.Fatal(err)
	}
	fmt.Printf("\nconsumer-records/s=%f\n", float64(recs)/time.Since(start).Seconds())
}

// BenchmarkServerGetRecordsSDK reads through a *kinesis.Client, whose
// decoding bounds the rate; for comparison with the raw consumers.
func BenchmarkServerGetRecordsSDK(b *testing.B) {
	c, it := benchShard(b, 10000, 1024)
	k := serve(b, c)
	b.SetBytes(1024 * 10000)
	b.ReportAllocs()
	for b.Loop() {
		out, err := k.GetRecords(context.Background(), &kinesis.GetRecordsInput{ShardIterator: &it})
		if err != nil {
			b.Fatal(err)
		}
		if len(out.Records) != 10000 {
			b.Fatalf("got %d records, want 10000", len(out.Records))
		}
	}
	b.ReportMetric(float64(b.N)*10000/b.Elapsed().Seconds(), "records/s")
}
