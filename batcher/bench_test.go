package batcher_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/esmkit/esmkit/batcher"
)

// record is about the size of an events.KinesisEventRecord (eight strings
// and a KinesisRecord), so copies cost what they would in esm.
type record struct {
	strs [12]string
	data []byte
	ts   time.Time
	size int
}

// BenchmarkAddTake adds chunks of items, as GetRecords pages arrive, and takes
// every ready batch. One op is one chunk; Take allocates once per batch.
func BenchmarkAddTake(b *testing.B) {
	for _, tc := range []struct{ chunk, count int }{
		{100, 100}, {1000, 100}, {10000, 10000},
	} {
		name := fmt.Sprintf("chunk=%d/count=%d", tc.chunk, tc.count)
		b.Run("int/"+name, func(b *testing.B) {
			benchAddTake(b, tc.chunk, tc.count, func(i int) int { return 400 + i%300 }, func(v int) int { return v })
		})
		b.Run("record/"+name, func(b *testing.B) {
			benchAddTake(b, tc.chunk, tc.count, func(i int) record {
				return record{strs: [12]string{"a"}, data: []byte{1}, ts: time.Unix(int64(i), 0), size: 400 + i%300}
			}, func(r record) int { return r.size })
		})
	}
}

func benchAddTake[T any](b *testing.B, chunkLen, count int, mk func(int) T, size func(T) int) {
	bt, err := batcher.New(
		batcher.Limits{Count: count, Bytes: 6 << 20, Window: time.Second},
		batcher.Size[T]{Item: func(v *T) int { return size(*v) }, Envelope: 14, Separator: 1},
	)
	if err != nil {
		b.Fatal(err)
	}
	chunk := make([]T, chunkLen)
	for i := range chunk {
		chunk[i] = mk(i)
	}
	now := time.Unix(1_700_000_000, 0)
	b.ReportAllocs()
	for b.Loop() {
		bt.Add(now, chunk...)
		for bt.Ready(now) {
			_ = bt.Take(now)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*chunkLen), "ns/item")
}
