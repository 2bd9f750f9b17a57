package otelesm_test

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/esmkit/esmkit/esm"
	"github.com/esmkit/esmkit/otelesm"
)

var errBoom = errors.New("boom")

const shardA, shardB = "shardId-000000000000", "shardId-000000000001"

// TestCounting feeds hook events and checks every counter against the
// rules of spec 14 and esm.Stats.
func TestCounting(t *testing.T) {
	batch := func(n int) esm.BatchEvent {
		return esm.BatchEvent{ShardID: shardA, Records: n, Duration: 250 * time.Millisecond, IteratorAge: 3 * time.Second}
	}
	tests := []struct {
		name   string
		events func(h *otelesm.Hook)
		want   map[string]int64 // counters not named must be 0
		calls  uint64           // values each histogram holds
	}{
		{"success", func(h *otelesm.Hook) { h.OnBatch(batch(5)) },
			map[string]int64{"esm.Invocations": 1, "esm.InvokedEventCount": 5}, 1},
		{"function error", func(h *otelesm.Hook) {
			ev := batch(5)
			ev.Err = errBoom
			h.OnBatch(ev)
		}, map[string]int64{"esm.Invocations": 1, "esm.Errors": 1, "esm.InvokedEventCount": 5, "esm.FailedInvokeEventCount": 5}, 1},
		{"partial failure counts the whole batch, no error", func(h *otelesm.Hook) {
			ev := batch(5)
			ev.ItemFailures = 2
			h.OnBatch(ev)
		}, map[string]int64{"esm.Invocations": 1, "esm.InvokedEventCount": 5, "esm.FailedInvokeEventCount": 5}, 1},
		{"throttle is neither an invocation nor invoked events", func(h *otelesm.Hook) {
			ev := batch(5)
			ev.Throttled = true
			h.OnBatch(ev)
		}, map[string]int64{"esm.Throttles": 1}, 0},
		{"retries count the events again", func(h *otelesm.Hook) {
			for attempt := range 3 {
				ev := batch(4)
				ev.Attempt = attempt
				if attempt < 2 {
					ev.Err = errBoom
				}
				h.OnBatch(ev)
			}
		}, map[string]int64{"esm.Invocations": 3, "esm.Errors": 2, "esm.InvokedEventCount": 12, "esm.FailedInvokeEventCount": 8}, 3},
		{"poll", func(h *otelesm.Hook) {
			h.OnPoll(esm.PollEvent{ShardID: shardA, Records: 10, Filtered: 3, MillisBehindLatest: 42})
			h.OnPoll(esm.PollEvent{ShardID: shardA, Records: 7})
		}, map[string]int64{"esm.PolledEventCount": 17, "esm.FilteredOutEventCount": 3}, 0},
		{"discard without destination is dropped", func(h *otelesm.Hook) {
			h.OnDiscard(esm.DiscardEvent{ShardID: shardA, Records: 3, Condition: "RetryAttemptsExhausted"})
		}, map[string]int64{"esm.DroppedEventCount": 3}, 0},
		{"delivered discard is not dropped", func(h *otelesm.Hook) {
			h.OnDiscard(esm.DiscardEvent{ShardID: shardA, Records: 3, Condition: "RecordAgeExceeded", Delivered: true})
		}, map[string]int64{"esm.OnFailureDestinationDeliveredEventCount": 3}, 0},
		{"failed delivery is dropped and one delivery failure", func(h *otelesm.Hook) {
			h.OnDiscard(esm.DiscardEvent{ShardID: shardA, Records: 3, Condition: "RetryAttemptsExhausted", DeliveryErr: errBoom})
		}, map[string]int64{"esm.DroppedEventCount": 3, "esm.DestinationDeliveryFailures": 1}, 0},
		{"checkpoints", func(h *otelesm.Hook) {
			h.OnCheckpoint(esm.CheckpointEvent{ShardID: shardA, SequenceNumber: "1"})
			h.OnCheckpoint(esm.CheckpointEvent{ShardID: shardA, SequenceNumber: "2", Err: errBoom})
			h.OnCheckpoint(esm.CheckpointEvent{ShardID: shardA, SequenceNumber: "3", ShardEnded: true})
		}, map[string]int64{"esm.CheckpointWrites": 3, "esm.CheckpointWriteFailures": 1}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, r := newHook(t)
			tc.events(h)
			s := collect(t, r)
			for _, name := range counters {
				if got, want := s.sum(t, name), tc.want[name]; got != want {
					t.Errorf("%s: got %d, want %d", name, got, want)
				}
			}
			for _, name := range []string{"esm.Duration", "esm.BatchSize", "esm.IteratorAge"} {
				if got, _ := s.hist(t, name); got != tc.calls {
					t.Errorf("%s: got %d values, want %d", name, got, tc.calls)
				}
			}
		})
	}
}

// TestHistogramUnits checks that Duration is in seconds, IteratorAge in
// milliseconds and BatchSize in records, with their declared units.
func TestHistogramUnits(t *testing.T) {
	h, r := newHook(t)
	h.OnBatch(esm.BatchEvent{ShardID: shardA, Records: 7, Duration: 1500 * time.Millisecond, IteratorAge: 2500 * time.Millisecond})
	h.OnBatch(esm.BatchEvent{ShardID: shardA, Records: 3, Duration: 500 * time.Millisecond, IteratorAge: 500 * time.Millisecond})
	h.OnPoll(esm.PollEvent{ShardID: shardA, Records: 10})
	s := collect(t, r)
	for _, tc := range []struct {
		name, unit string
		sum        float64
	}{
		{"esm.Duration", "s", 2},
		{"esm.IteratorAge", "ms", 3000},
		{"esm.BatchSize", "{event}", 10},
		{"esm.MillisBehindLatest", "ms", 0},
		{"esm.PolledEventCount", "{event}", 0},
		{"esm.Invocations", "{invocation}", 0},
		{"esm.State", "1", 0},
	} {
		if got := s[tc.name].Unit; got != tc.unit {
			t.Errorf("%s: got unit %q, want %q", tc.name, got, tc.unit)
		}
		if tc.sum == 0 {
			continue
		}
		if n, sum := s.hist(t, tc.name); n != 2 || sum != tc.sum {
			t.Errorf("%s: got %d values summing to %v, want 2 summing to %v", tc.name, n, sum, tc.sum)
		}
	}
}

func TestAttributes(t *testing.T) {
	tests := []struct {
		name      string
		opts      []otelesm.Option
		wantShard bool
		base      []attribute.KeyValue // on every series
	}{
		{"default", nil, true, nil},
		{"without shard", []otelesm.Option{otelesm.ShardAttribute(false)}, false, nil},
		{"mapping name and extra", []otelesm.Option{
			otelesm.Attributes(attribute.String("faas.name", "fn"), otelesm.MappingNameKey.String("overridden")),
			otelesm.MappingName("orders"),
		}, true, []attribute.KeyValue{attribute.String("faas.name", "fn"), otelesm.MappingNameKey.String("orders")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, r := newHook(t, tc.opts...)
			h.OnBatch(esm.BatchEvent{ShardID: shardA, Records: 2})
			h.OnBatch(esm.BatchEvent{ShardID: shardB, Records: 3})
			h.OnPoll(esm.PollEvent{ShardID: shardA, Records: 5, MillisBehindLatest: 100})
			h.OnPoll(esm.PollEvent{ShardID: shardB, Records: 5, MillisBehindLatest: 200})
			h.OnDiscard(esm.DiscardEvent{ShardID: shardA, Records: 1, Condition: "RetryAttemptsExhausted"})
			h.OnDiscard(esm.DiscardEvent{ShardID: shardB, Records: 2, Condition: "RecordAgeExceeded"})
			h.OnDiscard(esm.DiscardEvent{ShardID: shardB, Records: 4, Condition: "SomethingNew"})
			s := collect(t, r)

			if got := s.sum(t, "esm.InvokedEventCount", tc.base...); got != 5 {
				t.Errorf("InvokedEventCount with %v: got %d, want 5", tc.base, got)
			}
			a, b := otelesm.ShardIDKey.String(shardA), otelesm.ShardIDKey.String(shardB)
			ga, gb := s.sum(t, "esm.InvokedEventCount", a), s.sum(t, "esm.InvokedEventCount", b)
			if tc.wantShard && (ga != 2 || gb != 3) || !tc.wantShard && (ga != 0 || gb != 0) {
				t.Errorf("InvokedEventCount by shard: got %d and %d, want shard attribute %v", ga, gb, tc.wantShard)
			}
			for cond, want := range map[string]int64{"RetryAttemptsExhausted": 1, "RecordAgeExceeded": 2, "SomethingNew": 4} {
				kvs := append(slices.Clone(tc.base), otelesm.ConditionKey.String(cond))
				if got := s.sum(t, "esm.DroppedEventCount", kvs...); got != want {
					t.Errorf("DroppedEventCount with %s: got %d, want %d", cond, got, want)
				}
			}

			series := s.gauge(t, "esm.MillisBehindLatest")
			if tc.wantShard {
				va, oka := s.gaugeValue(t, "esm.MillisBehindLatest", a)
				vb, okb := s.gaugeValue(t, "esm.MillisBehindLatest", b)
				if len(series) != 2 || !oka || !okb || va != 100 || vb != 200 {
					t.Errorf("MillisBehindLatest: got %d series, %d and %d; want 100 and 200 by shard", len(series), va, vb)
				}
			} else if v, ok := s.gaugeValue(t, "esm.MillisBehindLatest"); len(series) != 1 || !ok || v != 200 {
				t.Errorf("MillisBehindLatest: got %d series, %d; want one, 200 (the last read)", len(series), v)
			}

			// Every series has exactly the base attributes, the shard's
			// when on, and the condition or state where they apply.
			for name, m := range s {
				for _, set := range attrSets(m.Data) {
					n := len(tc.base)
					if tc.wantShard && name != "esm.State" {
						n++
					}
					if _, ok := set.Value(otelesm.ConditionKey); ok {
						n++
					}
					if _, ok := set.Value(otelesm.StateKey); ok {
						n++
					}
					if set.Len() != n || !match(set, tc.base) {
						t.Errorf("%s: series %v, want %d attributes including %v", name, set.ToSlice(), n, tc.base)
					}
				}
			}
		})
	}
}

// attrSets returns the attribute sets of a metric's data points.
func attrSets(data metricdata.Aggregation) []attribute.Set {
	var out []attribute.Set
	switch d := data.(type) {
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			out = append(out, p.Attributes)
		}
	case metricdata.Gauge[int64]:
		for _, p := range d.DataPoints {
			out = append(out, p.Attributes)
		}
	case metricdata.Histogram[int64]:
		for _, p := range d.DataPoints {
			out = append(out, p.Attributes)
		}
	case metricdata.Histogram[float64]:
		for _, p := range d.DataPoints {
			out = append(out, p.Attributes)
		}
	default:
		panic(fmt.Sprintf("unexpected %T", data))
	}
	return out
}

func TestStateGauge(t *testing.T) {
	h, r := newHook(t, otelesm.MappingName("m"))
	state := func() map[string]int64 {
		out := map[string]int64{}
		for _, p := range collect(t, r).gauge(t, "esm.State") {
			v, _ := p.Attributes.Value(otelesm.StateKey)
			out[v.AsString()] = p.Value
		}
		return out
	}
	all := func(cur esm.State) map[string]int64 {
		m := map[string]int64{}
		for _, s := range []esm.State{esm.StateCreating, esm.StateEnabling, esm.StateEnabled, esm.StateDisabling, esm.StateDisabled, esm.StateUpdating, esm.StateDeleting} {
			m[string(s)] = 0
		}
		m[string(cur)] = 1
		return m
	}
	if got, want := state(), all(esm.StateCreating); !maps.Equal(got, want) {
		t.Errorf("new hook: got %v, want %v", got, want)
	}
	h.OnStateChange(esm.StateCreating, esm.StateEnabled)
	if got, want := state(), all(esm.StateEnabled); !maps.Equal(got, want) {
		t.Errorf("after Enabled: got %v, want %v", got, want)
	}
	h.OnStateChange(esm.StateEnabled, esm.StateDisabling)
	h.OnStateChange(esm.StateDisabling, esm.StateDisabled)
	if got, want := state(), all(esm.StateDisabled); !maps.Equal(got, want) {
		t.Errorf("after Disabled: got %v, want %v", got, want)
	}
	h.OnStateChange(esm.StateDisabled, "Paused") // a state esm may add
	if got, want := state(), all("Paused"); !maps.Equal(got, want) {
		t.Errorf("after an unknown state: got %v, want %v", got, want)
	}
	for range 2 {
		if err := h.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	if got := state(); len(got) != 0 {
		t.Errorf("after Close: got %v, want no esm.State series", got)
	}
	// The synchronous instruments still work.
	h.OnBatch(esm.BatchEvent{ShardID: shardA, Records: 1})
	if got := collect(t, r).sum(t, "esm.Invocations"); got != 1 {
		t.Errorf("Invocations after Close: got %d, want 1", got)
	}
}

// TestShardEnded checks that a shard forgotten at its end is counted
// again, in the same series, should it be seen again.
func TestShardEnded(t *testing.T) {
	h, r := newHook(t)
	h.OnBatch(esm.BatchEvent{ShardID: shardA, Records: 1})
	h.OnCheckpoint(esm.CheckpointEvent{ShardID: shardA, SequenceNumber: "9", ShardEnded: true})
	h.OnCheckpoint(esm.CheckpointEvent{ShardID: shardB, SequenceNumber: "9", ShardEnded: true}) // never seen before
	h.OnBatch(esm.BatchEvent{ShardID: shardA, Records: 2})
	s := collect(t, r)
	if got := s.sum(t, "esm.InvokedEventCount", otelesm.ShardIDKey.String(shardA)); got != 3 {
		t.Errorf("InvokedEventCount of %s: got %d, want 3", shardA, got)
	}
	if got := s.sum(t, "esm.CheckpointWrites", otelesm.ShardIDKey.String(shardB)); got != 1 {
		t.Errorf("CheckpointWrites of %s: got %d, want 1", shardB, got)
	}
}

// TestConcurrent calls every hook from many goroutines over many shards,
// for the race detector, and checks the totals.
func TestConcurrent(t *testing.T) {
	h, r := newHook(t)
	const goroutines, shards, calls = 8, 50, 200
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range calls {
				id := fmt.Sprintf("shardId-%012d", (g*calls+i)%shards)
				h.OnPoll(esm.PollEvent{ShardID: id, Records: 2, Filtered: 1})
				h.OnBatch(esm.BatchEvent{ShardID: id, Records: 1})
				h.OnDiscard(esm.DiscardEvent{ShardID: id, Records: 1, Condition: "RetryAttemptsExhausted", Delivered: true})
				h.OnCheckpoint(esm.CheckpointEvent{ShardID: id, ShardEnded: i%7 == 0})
				h.OnStateChange(esm.StateEnabled, esm.StateEnabled)
			}
		})
	}
	wg.Wait()
	s := collect(t, r)
	const n = goroutines * calls
	for name, want := range map[string]int64{
		"esm.PolledEventCount": 2 * n, "esm.FilteredOutEventCount": n, "esm.InvokedEventCount": n,
		"esm.Invocations": n, "esm.OnFailureDestinationDeliveredEventCount": n, "esm.CheckpointWrites": n,
	} {
		if got := s.sum(t, name); got != want {
			t.Errorf("%s: got %d, want %d", name, got, want)
		}
	}
	if got := len(s.gauge(t, "esm.MillisBehindLatest")); got != shards {
		t.Errorf("MillisBehindLatest: got %d series, want %d", got, shards)
	}
}

func TestNew(t *testing.T) {
	if _, err := otelesm.New(nil); err == nil {
		t.Error("New(nil): got no error, want one")
	}
	h, err := otelesm.New(noop.NewMeterProvider(), nil, otelesm.MappingName(""))
	if err != nil {
		t.Fatalf("New(noop): %v", err)
	}
	h.OnBatch(esm.BatchEvent{ShardID: shardA, Records: 1})
	if err := h.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}
