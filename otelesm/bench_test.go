package otelesm_test

import (
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/otel/metric/noop"

	"github.com/esmkit/esmkit/esm"
	"github.com/esmkit/esmkit/otelesm"
)

// BenchmarkOnBatch measures the hot path: one OnBatch per handler call,
// round-robin over shards, with the SDK and with a no-op provider (the
// Hook's own cost). It must report 0 allocs/op once shards are seen.
func BenchmarkOnBatch(b *testing.B) {
	for _, shards := range []int{1, 64} {
		for _, tc := range []struct {
			name string
			sdk  bool
			opts []otelesm.Option
		}{
			{"sdk", true, nil},
			{"sdk-noshard", true, []otelesm.Option{otelesm.ShardAttribute(false)}},
			{"noop", false, nil},
		} {
			b.Run(fmt.Sprintf("%s/shards=%d", tc.name, shards), func(b *testing.B) {
				var h *otelesm.Hook
				if tc.sdk {
					h, _ = newHook(b, tc.opts...)
				} else {
					var err error
					if h, err = otelesm.New(noop.NewMeterProvider(), tc.opts...); err != nil {
						b.Fatal(err)
					}
				}
				evs := make([]esm.BatchEvent, shards)
				for i := range evs {
					evs[i] = esm.BatchEvent{
						ShardID: fmt.Sprintf("shardId-%012d", i), Records: 100,
						Duration: 20 * time.Millisecond, IteratorAge: 1500 * time.Millisecond,
					}
					h.OnBatch(evs[i]) // the shard's series and attributes exist
				}
				b.ReportAllocs()
				b.ResetTimer()
				i := 0
				for b.Loop() {
					h.OnBatch(evs[i%shards])
					i++
				}
			})
		}
	}
}

// BenchmarkOnPoll measures the per-page path.
func BenchmarkOnPoll(b *testing.B) {
	h, _ := newHook(b)
	ev := esm.PollEvent{ShardID: "shardId-000000000000", Records: 100, Filtered: 3, MillisBehindLatest: 1000}
	h.OnPoll(ev)
	b.ReportAllocs()
	for b.Loop() {
		h.OnPoll(ev)
	}
}

// TestOnBatchAllocs holds the benchmark's claim in the test suite: the hot
// paths allocate nothing once a shard has been seen.
func TestOnBatchAllocs(t *testing.T) {
	h, _ := newHook(t)
	bev := esm.BatchEvent{ShardID: "shardId-000000000000", Records: 100, Duration: time.Millisecond, Err: errBoom, ItemFailures: 1}
	pev := esm.PollEvent{ShardID: bev.ShardID, Records: 100, Filtered: 1, MillisBehindLatest: 5}
	dev := esm.DiscardEvent{ShardID: bev.ShardID, Records: 1, Condition: "RetryAttemptsExhausted", DeliveryErr: errBoom}
	cev := esm.CheckpointEvent{ShardID: bev.ShardID, SequenceNumber: "1"}
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"OnBatch", func() { h.OnBatch(bev) }},
		{"OnPoll", func() { h.OnPoll(pev) }},
		{"OnDiscard", func() { h.OnDiscard(dev) }},
		{"OnCheckpoint", func() { h.OnCheckpoint(cev) }},
		{"OnStateChange", func() { h.OnStateChange(esm.StateEnabled, esm.StateEnabled) }},
	} {
		tc.f()
		if got := testing.AllocsPerRun(100, tc.f); got != 0 {
			t.Errorf("%s: got %v allocs per call, want 0", tc.name, got)
		}
	}
}
