package esm

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/esmkit/esmkit/internal/event"
)

// TestSizeFuncCache checks the timestamp cache of sizeFunc against
// event.RecordSize over runs of equal and changing arrival times.
func TestSizeFuncCache(t *testing.T) {
	src := &event.Source{StreamARN: "arn:aws:kinesis:us-east-1:123456789012:stream/s", Region: "us-east-1", ShardID: "shardId-000000000001"}
	size := sizeFunc(event.NewSizer(src))
	rng := rand.New(rand.NewPCG(1, 2))
	ts := time.UnixMilli(1_700_000_000_000)
	for i := range 5000 {
		switch rng.IntN(4) {
		case 0:
			ts = ts.Add(time.Duration(rng.IntN(1000)) * time.Millisecond)
		case 1:
			ts = time.Unix(0, rng.Int64()) // anything, including sub-ms
		}
		seq, key := "4959"+string(rune('0'+i%10)), "k"
		at := ts
		var r events.KinesisEventRecord
		event.Convert(&r, src, &types.Record{SequenceNumber: &seq, PartitionKey: &key, ApproximateArrivalTimestamp: &at, Data: make([]byte, rng.IntN(50))})
		if got, want := size(&r), event.RecordSize(&r); got != want {
			t.Fatalf("record %d at %v: sizeFunc %d, RecordSize %d", i, ts, got, want)
		}
	}
}
