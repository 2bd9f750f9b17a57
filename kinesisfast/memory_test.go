package kinesisfast_test

import (
	"context"
	"math/rand/v2"
	"net/http"
	"runtime"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// TestPagesDoNotChain reads pages the way a poller does, each call with the
// previous page's NextShardIterator, keeping only the latest output. The
// output's metadata reaches the call's input (raw response → request →
// context), so an iterator that pointed into its page's memory would keep
// every page ever read alive.
func TestPagesDoNotChain(t *testing.T) {
	const pages, n, size = 40, 1000, 1024 // about 1 MiB of Data per page
	g := &gen{rng: rand.New(rand.NewPCG(5, 5)), size: func(*rand.Rand) int { return size }}
	client := newClient(&canned{status: http.StatusOK, body: g.body(n)}, true)
	ctx := context.Background()

	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	var out *kinesis.GetRecordsOutput
	it := aws.String("AAAA")
	var base uint64
	for i := range pages {
		var err error
		out, err = client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it, Limit: aws.Int32(10000)})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Records) != n || out.NextShardIterator == nil {
			t.Fatalf("page %d: %d records, iterator %v", i, len(out.Records), out.NextShardIterator)
		}
		it = out.NextShardIterator
		if i == 1 {
			base = heap()
		}
	}
	grown := int64(heap()) - int64(base)
	// One page is about 1.2 MB; a chain would hold all 40 of them.
	if grown > 8<<20 {
		t.Errorf("live heap grew by %d MB over %d pages: earlier pages are still reachable", grown>>20, pages)
	}
	runtime.KeepAlive(out)
}
