package otelesm_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/esmkit/esmkit/destination"
	"github.com/esmkit/esmkit/esm"
	"github.com/esmkit/esmkit/kinesistest"
	"github.com/esmkit/esmkit/otelesm"
)

// scenario is a handler and a destination that, over one run, throttle,
// fail, partly fail, and deliver or fail to deliver discarded records, by
// the records' ids.
type scenario struct {
	mu        sync.Mutex
	calls     int
	partialed bool // the partial record's first failure was reported
}

const (
	throttledCalls = 2             // the first calls are throttled
	idDelivered    = "bad-deliver" // always fails; its on-failure record is delivered
	idUndelivered  = "bad-lost"    // always fails; its delivery fails
	idPartial      = "partial"     // listed in batchItemFailures once
)

type payload struct {
	ID   string `json:"id"`
	Keep bool   `json:"keep"`
}

func (s *scenario) handle(_ context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.calls <= throttledCalls {
		return events.KinesisEventResponse{}, &esm.ThrottleError{Err: errors.New("429 TooManyRequestsException")}
	}
	var resp events.KinesisEventResponse
	for _, r := range ev.Records {
		var p payload
		if err := json.Unmarshal(r.Kinesis.Data, &p); err != nil {
			return resp, err
		}
		switch {
		case p.ID == idDelivered || p.ID == idUndelivered:
			return events.KinesisEventResponse{}, fmt.Errorf("record %s: %w", p.ID, errBoom)
		case p.ID == idPartial && !s.partialed:
			s.partialed = true
			resp.BatchItemFailures = append(resp.BatchItemFailures,
				events.KinesisBatchItemFailure{ItemIdentifier: r.Kinesis.SequenceNumber})
		}
	}
	return resp, nil
}

func (s *scenario) deliver(_ context.Context, inv *destination.Invocation) error {
	for _, r := range inv.Event.Records {
		var p payload
		if json.Unmarshal(r.Kinesis.Data, &p) == nil && p.ID == idUndelivered {
			return errors.New("AccessDenied")
		}
	}
	return nil
}

// TestMapping runs a real mapping over kinesistest with throttles, function
// errors, a partial batch response, a filter and discards both delivered
// and not, and checks every metric against Mapping.Stats.
func TestMapping(t *testing.T) {
	tests := []struct {
		name  string
		opts  []otelesm.Option
		shard bool
	}{
		{"by shard", []otelesm.Option{otelesm.MappingName("orders")}, true},
		{"without shard", []otelesm.Option{otelesm.MappingName("orders"), otelesm.ShardAttribute(false)}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { testMapping(t, tc.opts, tc.shard) })
		})
	}
}

func testMapping(t *testing.T, opts []otelesm.Option, byShard bool) {
	ctx := context.Background()
	kc := kinesistest.New()
	arn, err := kc.AddStream("orders", 2)
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{"a", "b", idDelivered, "c", "d", idPartial, "e", "f", idUndelivered, "g", "h", "i"}
	shards := map[string]bool{}
	filtered := 0
	for i, id := range ids {
		// Every fourth record from the second (b and g) is filtered out.
		keep := i%4 != 1 || id == idPartial
		if !keep {
			filtered++
		}
		data, _ := json.Marshal(payload{ID: id, Keep: keep})
		shardID, _, err := kc.Put(ctx, "orders", fmt.Sprintf("key-%d", i%3), data)
		if err != nil {
			t.Fatal(err)
		}
		shards[shardID] = true
	}

	h, r := newHook(t, opts...)
	var sc scenario
	dst, err := destination.New(destination.Func(sc.deliver), destination.MaxAttempts(1))
	if err != nil {
		t.Fatal(err)
	}
	m, err := esm.New(kc, arn, sc.handle,
		esm.Name("orders"),
		esm.StartingPosition(esm.TrimHorizon),
		esm.BatchSize(4),
		esm.BisectBatchOnFunctionError(true),
		esm.MaximumRetryAttempts(1),
		esm.FunctionResponseTypes(esm.ReportBatchItemFailuresType),
		esm.FilterCriteria(`{"data":{"keep":[true]}}`),
		esm.OnFailure(dst),
		esm.Hooks(h))
	if err != nil {
		t.Fatalf("esm.New: %v", err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- m.Run(runCtx) }()
	// Time is synthetic: five minutes is many retry backoffs and polls.
	time.Sleep(5 * time.Minute)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}

	st := m.Stats()
	t.Logf("stats %+v", st)
	s := collect(t, r)
	mapping := otelesm.MappingNameKey.String("orders")
	for name, want := range map[string]int64{
		"esm.PolledEventCount":                        st.PolledEventCount,
		"esm.FilteredOutEventCount":                   st.FilteredOutEventCount,
		"esm.InvokedEventCount":                       st.InvokedEventCount,
		"esm.FailedInvokeEventCount":                  st.FailedInvokeEventCount,
		"esm.DroppedEventCount":                       st.DroppedEventCount,
		"esm.OnFailureDestinationDeliveredEventCount": st.OnFailureDestinationDeliveredEventCount,
		"esm.DestinationDeliveryFailures":             st.DestinationDeliveryFailures,
		"esm.Invocations":                             st.Invocations,
		"esm.Errors":                                  st.Errors,
		"esm.Throttles":                               st.Throttles,
	} {
		if got := s.sum(t, name, mapping); got != want {
			t.Errorf("%s: got %d, want %d (Stats)", name, got, want)
		}
		if !byShard {
			continue
		}
		var perShard int64
		for id := range shards {
			perShard += s.sum(t, name, otelesm.ShardIDKey.String(id))
		}
		if perShard != want {
			t.Errorf("%s: got %d over the shards' series, want %d", name, perShard, want)
		}
	}

	// The scenario did what it meant to, so the comparison above covers
	// every rule.
	sc.mu.Lock()
	partialed := sc.partialed
	sc.mu.Unlock()
	for _, c := range []struct {
		what      string
		got, want int64
	}{
		{"PolledEventCount", st.PolledEventCount, int64(len(ids))},
		{"FilteredOutEventCount", st.FilteredOutEventCount, int64(filtered)},
		{"Throttles", st.Throttles, throttledCalls},
		{"OnFailureDestinationDeliveredEventCount", st.OnFailureDestinationDeliveredEventCount, 1},
		{"DroppedEventCount", st.DroppedEventCount, 1},
		{"DestinationDeliveryFailures", st.DestinationDeliveryFailures, 1},
	} {
		if c.got != c.want {
			t.Errorf("Stats.%s: got %d, want %d", c.what, c.got, c.want)
		}
	}
	if !partialed || st.FailedInvokeEventCount == 0 || st.Errors == 0 || st.InvokedEventCount <= st.Invocations {
		t.Errorf("Stats %+v, partial response %v: want errors, a partial failure and retries", st, partialed)
	}
	if got := s.sum(t, "esm.FailedInvokeEventCount", otelesm.ConditionKey.String("x")); got != 0 {
		t.Errorf("FailedInvokeEventCount with a condition: got %d, want 0", got)
	}
	for cond, want := range map[string]int64{"RetryAttemptsExhausted": st.DroppedEventCount} {
		if got := s.sum(t, "esm.DroppedEventCount", otelesm.ConditionKey.String(cond)); got != want {
			t.Errorf("DroppedEventCount with %s: got %d, want %d", cond, got, want)
		}
	}

	// Histograms hold one value per invocation, throttles excluded.
	for _, name := range []string{"esm.Duration", "esm.IteratorAge", "esm.BatchSize"} {
		if n, _ := s.hist(t, name, mapping); int64(n) != st.Invocations {
			t.Errorf("%s: got %d values, want %d (Invocations)", name, n, st.Invocations)
		}
	}
	if _, sum := s.hist(t, "esm.BatchSize"); int64(sum) != st.InvokedEventCount {
		t.Errorf("BatchSize: got sum %v, want %d (InvokedEventCount)", sum, st.InvokedEventCount)
	}
	if w, f := s.sum(t, "esm.CheckpointWrites", mapping), s.sum(t, "esm.CheckpointWriteFailures"); w == 0 || f != 0 {
		t.Errorf("checkpoint writes: got %d, %d failed; want some, none failed", w, f)
	}

	// MillisBehindLatest: a series per shard read, or one.
	series := s.gauge(t, "esm.MillisBehindLatest")
	if byShard {
		for id := range shards {
			if _, ok := s.gaugeValue(t, "esm.MillisBehindLatest", otelesm.ShardIDKey.String(id)); !ok {
				t.Errorf("MillisBehindLatest: no series for %s", id)
			}
		}
	} else if len(series) != 1 {
		t.Errorf("MillisBehindLatest: got %d series, want 1", len(series))
	}

	// Run has returned: the mapping is Deleting.
	if v, ok := s.gaugeValue(t, "esm.State", mapping, otelesm.StateKey.String(string(esm.StateDeleting))); !ok || v != 1 || m.State() != esm.StateDeleting {
		t.Errorf("esm.State Deleting: got %d (found %v), mapping %s; want 1", v, ok, m.State())
	}
	var states int64
	for _, p := range s.gauge(t, "esm.State") {
		states += p.Value
	}
	if states != 1 {
		t.Errorf("esm.State: %d states at 1, want 1", states)
	}
}
