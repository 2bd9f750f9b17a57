package esm_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/esmkit/esmkit/destination"
	"github.com/esmkit/esmkit/esm"
	"github.com/esmkit/esmkit/kinesistest"
)

// sink is a Go-func destination that keeps what it receives, or fails.
type sink struct {
	mu   sync.Mutex
	got  []*destination.Invocation
	fail error
}

func (s *sink) destination(t testing.TB) *destination.Destination {
	t.Helper()
	d, err := destination.New(destination.Func(func(_ context.Context, inv *destination.Invocation) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.fail != nil {
			return s.fail
		}
		s.got = append(s.got, inv)
		return nil
	}), destination.MaxAttempts(1))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (s *sink) invocations() []*destination.Invocation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*destination.Invocation(nil), s.got...)
}

const fnARN = "arn:aws:lambda:us-east-2:123456789012:function:myfunction"

// discardRun puts n records in one shard, fails every invocation holding a
// record whose data is in bad, and returns the collector after good records
// were delivered, the put records and the mapping's stats.
func discardRun(t *testing.T, n, good int, bad map[string]bool, opts ...esm.Option) (*collector, []rec, esm.Stats) {
	t.Helper()
	kc := kinesistest.New()
	arn := createStream(t, kc, "d", 1)
	recs := make([]rec, n)
	for i := range recs {
		recs[i] = rec{Key: "k", Data: string(rune('a' + i))}
	}
	put(t, kc, "d", recs)
	c := newCollector(good)
	c.fail = func(_ int, ev events.KinesisEvent) error {
		for _, r := range ev.Records {
			if bad[string(r.Kinesis.Data)] {
				return errBoom
			}
		}
		return nil
	}
	opts = append([]esm.Option{esm.StartingPosition(esm.TrimHorizon), esm.FunctionARN(fnARN)}, opts...)
	m := newMapping(t, kc, arn, c.handle, opts...)
	stop := run(t, m)
	if good == 0 {
		time.Sleep(5 * time.Minute)
	} else {
		c.wait(t, 10*time.Minute)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	return c, recs, m.Stats()
}

var msTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

// Checklist 50, 51 and 55: exhausted retries send one record describing the
// whole batch, with Lambda's fields.
func TestOnFailureRetriesExhausted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var s sink
		c, recs, st := discardRun(t, 4, 1, map[string]bool{"a": true},
			esm.BatchSize(3), esm.MaximumRetryAttempts(2), esm.OnFailure(s.destination(t)))
		got := s.invocations()
		if len(got) != 1 {
			t.Fatalf("got %d on-failure records, want 1", len(got))
		}
		inv := got[0]
		if inv.Condition != destination.RetryAttemptsExhausted || inv.BatchSize != 3 || inv.ApproximateInvokeCount != 3 {
			t.Errorf("got condition %q, batchSize %d, invoke count %d; want RetryAttemptsExhausted, 3, 3",
				inv.Condition, inv.BatchSize, inv.ApproximateInvokeCount)
		}
		if inv.StartSequenceNumber != recs[0].Seq || inv.EndSequenceNumber != recs[2].Seq {
			t.Errorf("sequence range %s..%s, want %s..%s", inv.StartSequenceNumber, inv.EndSequenceNumber, recs[0].Seq, recs[2].Seq)
		}
		if inv.ShardID != recs[0].ShardID || inv.StreamARN == "" || inv.FunctionARN != fnARN || inv.FunctionError != "Unhandled" || inv.StatusCode != 200 {
			t.Errorf("got %+v, want shard, stream and function ARNs, Unhandled and 200", inv)
		}
		doc, err := destination.MarshalRecord(inv)
		if err != nil {
			t.Fatal(err)
		}
		back, err := destination.Unmarshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, ts := range []time.Time{back.Timestamp, back.ApproximateArrivalOfFirstRecord, back.ApproximateArrivalOfLastRecord} {
			if s := ts.UTC().Format("2006-01-02T15:04:05.000Z"); !msTime.MatchString(s) {
				t.Errorf("timestamp %q is not ISO-8601 UTC with milliseconds", s)
			}
		}
		if !regexp.MustCompile(`"version":"1.0"`).Match(doc) || regexp.MustCompile(`"data"`).Match(doc) {
			t.Errorf("document %s: want version 1.0 and no record data", doc)
		}
		// The shard went on: the fourth record was delivered.
		if d := c.records(); len(d) != 1 || d[0].Data != "d" {
			t.Errorf("delivered %v, want the record after the discarded batch", d)
		}
		if st.OnFailureDestinationDeliveredEventCount != 3 || st.DroppedEventCount != 0 {
			t.Errorf("stats %+v: want 3 delivered to the destination, 0 dropped", st)
		}
	})
}

// Checklist 54: an age discard says RecordAgeExceeded.
func TestOnFailureRecordAgeExceeded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var s sink
		discardRun(t, 2, 0, map[string]bool{"a": true},
			esm.BatchSize(1), esm.MaximumRecordAge(time.Minute), esm.OnFailure(s.destination(t)))
		got := s.invocations()
		if len(got) == 0 {
			t.Fatal("no on-failure record")
		}
		if got[0].Condition != destination.RecordAgeExceeded {
			t.Errorf("condition %q, want RecordAgeExceeded", got[0].Condition)
		}
	})
}

// Checklist 56 and 57: a destination that fails, or none, drops the records,
// counts them, and the shard continues.
func TestDiscardCounting(t *testing.T) {
	for _, tc := range []struct {
		name          string
		fail          error
		noDestination bool
		wantFailures  int64
	}{
		{"56 destination rejects", errors.New("AccessDenied"), false, 1},
		{"57 no destination", nil, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := sink{fail: tc.fail}
				opts := []esm.Option{esm.BatchSize(2), esm.MaximumRetryAttempts(0)}
				if !tc.noDestination {
					opts = append(opts, esm.OnFailure(s.destination(t)))
				}
				c, _, st := discardRun(t, 3, 1, map[string]bool{"b": true}, opts...)
				if st.DroppedEventCount != 2 || st.DestinationDeliveryFailures != tc.wantFailures || st.OnFailureDestinationDeliveredEventCount != 0 {
					t.Errorf("stats %+v: want 2 dropped, %d delivery failures, 0 delivered", st, tc.wantFailures)
				}
				if d := c.records(); len(d) != 1 || d[0].Data != "c" {
					t.Errorf("delivered %v, want the shard to continue with c", d)
				}
			})
		})
	}
}

// TestBisectIsolatesPoisonRecord checks the whole path: bisect isolates the
// one bad record, only it is sent to the destination, and every other
// record is delivered exactly once, in order.
func TestBisectIsolatesPoisonRecord(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var s sink
		c, recs, _ := discardRun(t, 16, 15, map[string]bool{"f": true},
			esm.BatchSize(16), esm.BisectBatchOnFunctionError(true), esm.MaximumRetryAttempts(1), esm.OnFailure(s.destination(t)))
		got := s.invocations()
		if len(got) != 1 || got[0].BatchSize != 1 || got[0].StartSequenceNumber != recs[5].Seq {
			t.Fatalf("on-failure records %+v, want exactly the poison record %s", got, recs[5].Seq)
		}
		good := append(append([]rec(nil), recs[:5]...), recs[6:]...)
		checkExactlyOnceInOrder(t, c.records(), good)
		if n := len(got[0].Event.Records); n != 1 || string(got[0].Event.Records[0].Kinesis.Data) != "f" {
			t.Errorf("payload has %d records, want the poison record", n)
		}
	})
}

// statusError is an error with an HTTP status, like the SDK's response
// errors.
type statusError int

func (e statusError) Error() string       { return fmt.Sprintf("status %d", int(e)) }
func (e statusError) HTTPStatusCode() int { return int(e) }

// An age discard after invocations that never reached the function reports
// the HTTP status that refused them (a service error's 503), or 429 for a
// throttle that carries none.
func TestOnFailureStatusOfRefusedInvocations(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"throttle without a status", errors.New("Rate Exceeded."), 429},
		{"service error", fmt.Errorf("invoke: %w", statusError(503)), 503},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				kc := kinesistest.New()
				arn := createStream(t, kc, "r", 1)
				put(t, kc, "r", []rec{{Key: "k", Data: "a"}})
				var s sink
				c := newCollector(1)
				c.fail = func(int, events.KinesisEvent) error { return &esm.ThrottleError{Err: tc.err} }
				stop := run(t, newMapping(t, kc, arn, c.handle, esm.StartingPosition(esm.TrimHorizon),
					esm.MaximumRecordAge(time.Minute), esm.OnFailure(s.destination(t))))
				time.Sleep(5 * time.Minute)
				if err := stop(); err != nil {
					t.Fatal(err)
				}
				got := s.invocations()
				if len(got) != 1 || got[0].Condition != destination.RecordAgeExceeded {
					t.Fatalf("on-failure records %+v, want one for RecordAgeExceeded", got)
				}
				if got[0].StatusCode != tc.want || got[0].FunctionError != "" {
					t.Errorf("status %d, function error %q; want %d and none", got[0].StatusCode, got[0].FunctionError, tc.want)
				}
			})
		})
	}
}
