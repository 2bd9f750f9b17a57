package kinesisfast_test

import (
	"context"
	"math/rand/v2"
	"net/http"
	"runtime"
	"testing"
	"unsafe"
	"weak"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// TestPagesDoNotChain reads pages the way a poller does, each call with the
// previous page's NextShardIterator, keeping only the latest output. The
// output's metadata reaches the call's input (raw response → request →
// context), so an iterator that pointed into its page's memory would keep
// every page ever read alive: the first pages' Data blocks and strings must
// be collected.
func TestPagesDoNotChain(t *testing.T) {
	const pages, early, n = 40, 5, 100
	g := &gen{rng: rand.New(rand.NewPCG(5, 5)), size: func(*rand.Rand) int { return 1024 }}
	client := newClient(&canned{status: http.StatusOK, body: g.body(n)}, true)
	ctx := context.Background()

	var data []weak.Pointer[byte]
	var out *kinesis.GetRecordsOutput
	it := aws.String("AAAA")
	for i := range pages {
		var err error
		out, err = client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it, Limit: aws.Int32(10000)})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Records) != n || out.NextShardIterator == nil {
			t.Fatalf("page %d: %d records, iterator %v", i, len(out.Records), out.NextShardIterator)
		}
		if i < early {
			r := &out.Records[0]
			data = append(data, weak.Make(&r.Data[0]), weak.Make(unsafe.StringData(*r.SequenceNumber)))
		}
		it = out.NextShardIterator
	}
	runtime.GC()
	runtime.GC()
	for i, w := range data {
		if w.Value() != nil {
			t.Fatalf("after %d pages, memory of page %d is still reachable", pages, i/2)
		}
	}
	runtime.KeepAlive(out)
}
