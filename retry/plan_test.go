package retry_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/esmkit/esmkit/retry"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// seqBase is a real Kinesis sequence number without its last four digits.
const seqBase = "4960118965842235937883629852182763847532018901230970"

// seq returns the sequence number of record i (0-based).
func seq(i int) string { return fmt.Sprintf("%s%04d", seqBase, i+1) }

// records returns n records in sequence order that arrived at arrival(i).
func records(n int, arrival func(i int) time.Time) []events.KinesisEventRecord {
	recs := make([]events.KinesisEventRecord, n)
	for i := range recs {
		recs[i].Kinesis.SequenceNumber = seq(i)
		if arrival != nil {
			recs[i].Kinesis.ApproximateArrivalTimestamp.Time = arrival(i)
		} else {
			recs[i].Kinesis.ApproximateArrivalTimestamp.Time = t0
		}
	}
	return recs
}

// constSource is a rand.Source that always returns one number: 0 makes
// every backoff wait its lower bound d/2, math.MaxUint64 its upper bound d.
type constSource uint64

func (s constSource) Uint64() uint64 { return uint64(s) }

// fails returns a response reporting the given 1-based records failed.
func fails(nums ...int) events.KinesisEventResponse {
	var r events.KinesisEventResponse
	for _, n := range nums {
		r.BatchItemFailures = append(r.BatchItemFailures, events.KinesisBatchItemFailure{ItemIdentifier: seq(n - 1)})
	}
	return r
}

// call is one invocation seen by a script: its number k (from 0), the
// records as 1-based numbers, and the attempt.
type call struct {
	k       int
	nums    []int
	attempt int
}

func (c call) has(n int) bool {
	for _, m := range c.nums {
		if m == n {
			return true
		}
	}
	return false
}

// rangeString prints records[lo:hi] 1-based: "3" or "1-4".
func rangeString(lo, hi int) string {
	if hi-lo == 1 {
		return fmt.Sprint(lo + 1)
	}
	return fmt.Sprintf("%d-%d", lo+1, hi)
}

// drive runs a plan over recs with script answering each invocation, each of
// which takes step, and returns the log: "invoke 1-4 a0",
// "discard 3 RetryAttemptsExhausted x4", "done". It stops after limit
// invocations. It checks on the way that Finished never decreases, equals Lo
// at an Invoke, Hi after a Discard and len(recs) at Done.
func drive(t *testing.T, p retry.Policy, recs []events.KinesisEventRecord, step time.Duration, limit int, script func(call) retry.Outcome) []string {
	t.Helper()
	var log []string
	pl := retry.NewPlan(p, recs, constSource(0))
	now := t0
	k := 0
	last := 0
	for {
		a := pl.Next(now)
		f := pl.Finished()
		if f < last {
			t.Fatalf("Finished went from %d to %d", last, f)
		}
		last = f
		switch a.Kind {
		case retry.Wait:
			if a.Delay <= 0 {
				t.Fatalf("got Wait %v, want a positive delay", a.Delay)
			}
			now = now.Add(a.Delay)
		case retry.Invoke:
			if f != a.Lo {
				t.Fatalf("Invoke %d-%d with Finished %d, want %d", a.Lo, a.Hi, f, a.Lo)
			}
			if k == limit {
				return log
			}
			log = append(log, fmt.Sprintf("invoke %s a%d", rangeString(a.Lo, a.Hi), a.Attempt))
			c := call{k: k, attempt: a.Attempt}
			for i := a.Lo; i < a.Hi; i++ {
				c.nums = append(c.nums, i+1)
			}
			k++
			now = now.Add(step)
			pl.Report(now, script(c))
		case retry.Discard:
			if f != a.Hi {
				t.Fatalf("Discard %d-%d with Finished %d, want %d", a.Lo, a.Hi, f, a.Hi)
			}
			var g *retry.GiveUpError
			if !errors.As(a.Err, &g) {
				t.Fatalf("Discard Err %v, want a *GiveUpError", a.Err)
			}
			if want := map[retry.Condition]error{retry.RetryAttemptsExhausted: retry.ErrRetriesExhausted,
				retry.RecordAgeExceeded: retry.ErrRecordExpired}[a.Condition]; !errors.Is(g.Reason, want) {
				t.Fatalf("Discard %s with Reason %v, want %v", a.Condition, g.Reason, want)
			}
			log = append(log, fmt.Sprintf("discard %s %s x%d", rangeString(a.Lo, a.Hi), a.Condition, a.InvokeCount))
		case retry.Done:
			if f != len(recs) {
				t.Fatalf("Done with Finished %d, want %d", f, len(recs))
			}
			return append(log, "done")
		}
	}
}

var errBoom = errors.New("boom")

func ok(call) retry.Outcome            { return retry.Outcome{} }
func functionError(call) retry.Outcome { return retry.Result(events.KinesisEventResponse{}, errBoom) }

// failIf fails every invocation that includes record n with a function error.
func failIf(n int) func(call) retry.Outcome {
	return func(c call) retry.Outcome {
		if c.has(n) {
			return functionError(c)
		}
		return ok(c)
	}
}

// once answers the first invocation with first and the rest with ok.
func once(first retry.Outcome) func(call) retry.Outcome {
	return func(c call) retry.Outcome {
		if c.k == 0 {
			return first
		}
		return ok(c)
	}
}

func raw(s string) retry.Outcome { return retry.RawResult([]byte(s), nil) }

func policy(f func(*retry.Policy)) retry.Policy {
	p := retry.DefaultPolicy()
	f(&p)
	return p
}

var (
	rbif   = policy(func(p *retry.Policy) { p.ReportBatchItemFailures = true })
	bisect = policy(func(p *retry.Policy) { p.BisectBatchOnFunctionError = true })
)

func repeat(format string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = format
		if strings.Contains(format, "%") {
			out[i] = fmt.Sprintf(format, i)
		}
	}
	return out
}

// TestChecklist runs the items 28–49 and 54–55 of the conformance checklist
// (spec §20) that concern the retry policy. Items 33 and 34 are about reading
// Kinesis and belong to the shard package.
func TestChecklist(t *testing.T) {
	tests := []struct {
		name   string
		p      retry.Policy
		n      int
		step   time.Duration
		limit  int
		script func(call) retry.Outcome
		want   []string
	}{
		{
			name: "28 default retries forever", p: retry.DefaultPolicy(), n: 3, limit: 50,
			script: functionError, want: repeat("invoke 1-3 a%d", 50),
		},
		{
			name: "29 and 55 MaximumRetryAttempts 2 invokes 3 times", n: 3,
			p:      policy(func(p *retry.Policy) { p.MaximumRetryAttempts = 2 }),
			script: functionError,
			want:   []string{"invoke 1-3 a0", "invoke 1-3 a1", "invoke 1-3 a2", "discard 1-3 RetryAttemptsExhausted x3", "done"},
		},
		{
			name: "30 MaximumRetryAttempts 0 does not retry", n: 3,
			p:      policy(func(p *retry.Policy) { p.MaximumRetryAttempts = 0 }),
			script: functionError,
			want:   []string{"invoke 1-3 a0", "discard 1-3 RetryAttemptsExhausted x1", "done"},
		},
		{
			name: "30 zero Policy does not retry", n: 2, p: retry.Policy{}, script: functionError,
			want: []string{"invoke 1-2 a0", "discard 1-2 RetryAttemptsExhausted x1", "done"},
		},
		{
			// Invocations start at 0, 20.05, 40.15 and 60.35 s: the last is
			// past 60 s, so the records go without a fourth invocation.
			name: "31 and 54 MaximumRecordAge 60s discards", n: 3, step: 20 * time.Second,
			p:      policy(func(p *retry.Policy) { p.MaximumRecordAge = time.Minute }),
			script: functionError,
			want:   []string{"invoke 1-3 a0", "invoke 1-3 a1", "invoke 1-3 a2", "discard 1-3 RecordAgeExceeded x3", "done"},
		},
		{
			name: "32 throttles do not consume attempts", n: 2,
			p: policy(func(p *retry.Policy) { p.MaximumRetryAttempts = 1 }),
			script: func(c call) retry.Outcome {
				if c.k < 5 {
					return retry.Throttled(errors.New("429"))
				}
				return ok(c)
			},
			want: slices.Concat(repeat("invoke 1-2 a0", 6), []string{"done"}),
		},
		{
			name: "32 throttles end only by age", n: 2, step: time.Second,
			p: policy(func(p *retry.Policy) {
				p.MaximumRetryAttempts = 0
				p.MaximumRecordAge = time.Minute
			}),
			script: func(call) retry.Outcome { return retry.Throttled(errors.New("429")) },
			// Invocations start at 0, 1.5, 3.5, 6.5, 11.5, 20.5, 36.5 and
			// 52.5 s: 1 s each, then waits of 0.5, 1, 2, 4, 8, 15 and 15 s.
			want: slices.Concat(repeat("invoke 1-2 a0", 8), []string{"discard 1-2 RecordAgeExceeded x0", "done"}),
		},
		{
			name: "35 empty list is success", p: rbif, n: 3,
			script: func(call) retry.Outcome {
				return retry.Result(events.KinesisEventResponse{BatchItemFailures: []events.KinesisBatchItemFailure{}}, nil)
			},
			want: []string{"invoke 1-3 a0", "done"},
		},
		{
			name: "35 raw empty list is success", p: rbif, n: 3,
			script: func(call) retry.Outcome { return raw(`{"batchItemFailures":[]}`) },
			want:   []string{"invoke 1-3 a0", "done"},
		},
		{
			name: "36 raw null is success", p: rbif, n: 3, script: func(call) retry.Outcome { return raw(`null`) },
			want: []string{"invoke 1-3 a0", "done"},
		},
		{
			name: "36 raw {} is success", p: rbif, n: 3, script: func(call) retry.Outcome { return raw(` {} `) },
			want: []string{"invoke 1-3 a0", "done"},
		},
		{
			name: "36 raw null list is success", p: rbif, n: 3,
			script: func(call) retry.Outcome { return raw(`{"batchItemFailures":null}`) },
			want:   []string{"invoke 1-3 a0", "done"},
		},
		{
			name: "36 nil list is success", p: rbif, n: 3,
			script: func(call) retry.Outcome { return retry.Result(events.KinesisEventResponse{}, nil) },
			want:   []string{"invoke 1-3 a0", "done"},
		},
		{
			name: "37 lowest reported failure starts the retry", p: rbif, n: 4,
			script: once(retry.Result(fails(3, 2), nil)),
			want:   []string{"invoke 1-4 a0", "invoke 2-4 a1", "done"},
		},
		{
			name: "37 raw lowest reported failure starts the retry", p: rbif, n: 4,
			script: once(raw(`{"batchItemFailures":[{"itemIdentifier":"` + seq(2) + `"},{"itemIdentifier":"` + seq(1) + `"}]}`)),
			want:   []string{"invoke 1-4 a0", "invoke 2-4 a1", "done"},
		},
		{
			name: "38 empty itemIdentifier fails the whole batch", p: rbif, n: 4,
			script: once(retry.Result(events.KinesisEventResponse{BatchItemFailures: []events.KinesisBatchItemFailure{{ItemIdentifier: seq(2)}, {}}}, nil)),
			want:   []string{"invoke 1-4 a0", "invoke 1-4 a1", "done"},
		},
		{
			name: "38 raw empty itemIdentifier fails the whole batch", p: rbif, n: 4,
			script: once(raw(`{"batchItemFailures":[{"itemIdentifier":""}]}`)),
			want:   []string{"invoke 1-4 a0", "invoke 1-4 a1", "done"},
		},
		{
			name: "39 null itemIdentifier fails the whole batch", p: rbif, n: 4,
			script: once(raw(`{"batchItemFailures":[{"itemIdentifier":null}]}`)),
			want:   []string{"invoke 1-4 a0", "invoke 1-4 a1", "done"},
		},
		{
			name: "40 bad key fails the whole batch", p: rbif, n: 4,
			script: once(raw(`{"batchItemFailures":[{"itemId":"` + seq(1) + `"}]}`)),
			want:   []string{"invoke 1-4 a0", "invoke 1-4 a1", "done"},
		},
		{
			name: "40 invalid JSON fails the whole batch", p: rbif, n: 4,
			script: once(raw(`{"batchItemFailures":[`)),
			want:   []string{"invoke 1-4 a0", "invoke 1-4 a1", "done"},
		},
		{
			name: "41 failures ignored when ReportBatchItemFailures is off", p: retry.DefaultPolicy(), n: 4,
			script: once(retry.Result(fails(2), nil)),
			want:   []string{"invoke 1-4 a0", "done"},
		},
		{
			name: "41 invalid response ignored when ReportBatchItemFailures is off", p: retry.DefaultPolicy(), n: 4,
			script: once(raw(`not json`)),
			want:   []string{"invoke 1-4 a0", "done"},
		},
		{
			name: "42 unknown itemIdentifier fails the whole batch", p: rbif, n: 4,
			script: once(retry.Result(events.KinesisEventResponse{BatchItemFailures: []events.KinesisBatchItemFailure{{ItemIdentifier: seq(2)}, {ItemIdentifier: seq(4)}}}, nil)),
			want:   []string{"invoke 1-4 a0", "invoke 1-4 a1", "done"},
		},
		{
			// After the split [1,2] is invoked; record 3 is in the batch
			// but not in the invocation.
			name: "42 itemIdentifier outside the invoked range fails it",
			p: policy(func(p *retry.Policy) {
				p.ReportBatchItemFailures = true
				p.BisectBatchOnFunctionError = true
			}), n: 4,
			script: func(c call) retry.Outcome {
				switch c.k {
				case 0:
					return functionError(c)
				case 1:
					return retry.Result(fails(3), nil)
				}
				return ok(c)
			},
			want: []string{"invoke 1-4 a0", "invoke 1-2 a0", "invoke 1 a0", "invoke 2 a0", "invoke 3-4 a0", "done"},
		},
		{
			name: "43 function error wins over the response", p: rbif, n: 4,
			script: once(retry.Result(fails(3), errBoom)),
			want:   []string{"invoke 1-4 a0", "invoke 1-4 a1", "done"},
		},
		{
			name: "43 raw function error wins over the response", p: rbif, n: 4,
			script: once(retry.RawResult([]byte(`{"batchItemFailures":[]}`), errBoom)),
			want:   []string{"invoke 1-4 a0", "invoke 1-4 a1", "done"},
		},
		{
			name: "44 partial failure exhausts attempts", n: 4,
			p: policy(func(p *retry.Policy) {
				p.ReportBatchItemFailures = true
				p.MaximumRetryAttempts = 1
			}),
			script: func(call) retry.Outcome { return retry.Result(fails(2), nil) },
			want:   []string{"invoke 1-4 a0", "invoke 2-4 a1", "discard 2-4 RetryAttemptsExhausted x2", "done"},
		},
		{
			name: "45 bisect isolates record 3", n: 4,
			p: policy(func(p *retry.Policy) {
				p.BisectBatchOnFunctionError = true
				p.MaximumRetryAttempts = 1
			}),
			script: failIf(3),
			want: []string{"invoke 1-4 a0", "invoke 1-2 a0", "invoke 3-4 a0", "invoke 3 a0", "invoke 3 a1",
				"discard 3 RetryAttemptsExhausted x4", "invoke 4 a0", "done"},
		},
		{
			name: "46 MaximumRetryAttempts 0 still splits to single records", n: 4,
			p: policy(func(p *retry.Policy) {
				p.BisectBatchOnFunctionError = true
				p.MaximumRetryAttempts = 0
			}),
			script: functionError,
			want: []string{"invoke 1-4 a0", "invoke 1-2 a0", "invoke 1 a0", "discard 1 RetryAttemptsExhausted x3",
				"invoke 2 a0", "discard 2 RetryAttemptsExhausted x3", "invoke 3-4 a0", "invoke 3 a0",
				"discard 3 RetryAttemptsExhausted x3", "invoke 4 a0", "discard 4 RetryAttemptsExhausted x3", "done"},
		},
		{
			name: "46 odd batch gives the left half the extra record", n: 5,
			p: policy(func(p *retry.Policy) {
				p.BisectBatchOnFunctionError = true
				p.MaximumRetryAttempts = 0
			}),
			script: failIf(3),
			want: []string{"invoke 1-5 a0", "invoke 1-3 a0", "invoke 1-2 a0", "invoke 3 a0",
				"discard 3 RetryAttemptsExhausted x3", "invoke 4-5 a0", "done"},
		},
		{
			name: "47 throttles are not bisected", p: bisect, n: 4,
			script: func(c call) retry.Outcome {
				if c.k < 3 {
					return retry.Throttled(nil)
				}
				return ok(c)
			},
			want: []string{"invoke 1-4 a0", "invoke 1-4 a0", "invoke 1-4 a0", "invoke 1-4 a0", "done"},
		},
		{
			name: "48 bisect with partial response cuts at the failure", n: 8,
			p: policy(func(p *retry.Policy) {
				p.ReportBatchItemFailures = true
				p.BisectBatchOnFunctionError = true
			}),
			script: once(retry.Result(fails(5), nil)),
			want:   []string{"invoke 1-8 a0", "invoke 5-8 a1", "done"},
		},
		{
			name: "48 partial failure at the first record retries without halving", n: 4,
			p: policy(func(p *retry.Policy) {
				p.ReportBatchItemFailures = true
				p.BisectBatchOnFunctionError = true
			}),
			script: once(retry.Result(fails(1), nil)),
			want:   []string{"invoke 1-4 a0", "invoke 1-4 a1", "done"},
		},
		{
			name: "49 invalid partial response is halved", n: 4,
			p: policy(func(p *retry.Policy) {
				p.ReportBatchItemFailures = true
				p.BisectBatchOnFunctionError = true
			}),
			script: once(raw(`{"batchItemFailures":[{"itemIdentifier":""}]}`)),
			want:   []string{"invoke 1-4 a0", "invoke 1-2 a0", "invoke 3-4 a0", "done"},
		},
		{
			name: "permanent error discards at once, without bisect", p: bisect, n: 4,
			script: once(retry.Result(events.KinesisEventResponse{}, retry.Permanent(errBoom))),
			want:   []string{"invoke 1-4 a0", "discard 1-4 RetryAttemptsExhausted x1", "done"},
		},
		{
			// A partial failure takes an attempt; the split keeps it, so
			// the single record 1 has no retry left.
			name: "KeepAttemptsOnSplit carries attempts into the halves", n: 4,
			p: policy(func(p *retry.Policy) {
				p.ReportBatchItemFailures = true
				p.BisectBatchOnFunctionError = true
				p.MaximumRetryAttempts = 1
				p.KeepAttemptsOnSplit = true
			}),
			script: func(c call) retry.Outcome {
				if c.k == 0 {
					return retry.Result(fails(1), nil)
				}
				return failIf(1)(c)
			},
			want: []string{"invoke 1-4 a0", "invoke 1-4 a1", "invoke 1-2 a1", "invoke 1 a1",
				"discard 1 RetryAttemptsExhausted x4", "invoke 2 a1", "invoke 3-4 a1", "done"},
		},
		{
			name: "attempts restart on split by default", n: 4,
			p: policy(func(p *retry.Policy) {
				p.ReportBatchItemFailures = true
				p.BisectBatchOnFunctionError = true
				p.MaximumRetryAttempts = 1
			}),
			script: func(c call) retry.Outcome {
				if c.k == 0 {
					return retry.Result(fails(1), nil)
				}
				return failIf(1)(c)
			},
			want: []string{"invoke 1-4 a0", "invoke 1-4 a1", "invoke 1-2 a0", "invoke 1 a0", "invoke 1 a1",
				"discard 1 RetryAttemptsExhausted x5", "invoke 2 a0", "invoke 3-4 a0", "done"},
		},
		{
			name: "empty batch is done", p: retry.DefaultPolicy(), n: 0, script: ok,
			want: []string{"done"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			limit := tc.limit
			if limit == 0 {
				limit = 1000
			}
			got := drive(t, tc.p, records(tc.n, nil), tc.step, limit, tc.script)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(tc.want, "\n\t"))
			}
		})
	}
}

// TestAgeDiscardsPrefix checks that only the leading expired records are
// discarded: arrival times need not increase, and an old record behind a
// young one waits for the next pass. A zero arrival time never expires.
func TestAgeDiscardsPrefix(t *testing.T) {
	p := policy(func(p *retry.Policy) { p.MaximumRecordAge = time.Minute })
	tests := []struct {
		name    string
		ages    []time.Duration // age at t0; -1 is a zero arrival time
		step    time.Duration
		script  func(call) retry.Outcome
		want    []string
		invokes int
	}{
		{
			name: "old young old", ages: []time.Duration{2 * time.Minute, 0, 2 * time.Minute},
			script: ok, want: []string{"discard 1 RecordAgeExceeded x0", "invoke 2-3 a0", "done"},
		},
		{
			name: "exactly the maximum age is kept", ages: []time.Duration{time.Minute, time.Minute + 1},
			script: ok, want: []string{"invoke 1-2 a0", "done"},
		},
		{
			name: "zero arrival never expires", ages: []time.Duration{-1, 2 * time.Minute},
			script: ok, want: []string{"invoke 1-2 a0", "done"},
		},
		{
			name: "ages while waiting for a retry", ages: []time.Duration{59 * time.Second, 55 * time.Second, 0},
			step: time.Second, script: functionError,
			// Retries start at 1.05 s, when record 1 is 60.05 s old, then
			// 2.15, 3.35, 4.75 and 6.55 s, when record 2 is 61.55 s old.
			want: []string{"invoke 1-3 a0", "discard 1 RecordAgeExceeded x1", "invoke 2-3 a1", "invoke 2-3 a2",
				"invoke 2-3 a3", "invoke 2-3 a4", "discard 2 RecordAgeExceeded x5", "invoke 3 a5"},
			invokes: 6,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs := records(len(tc.ages), func(i int) time.Time {
				if tc.ages[i] < 0 {
					return time.Time{}
				}
				return t0.Add(-tc.ages[i])
			})
			limit := tc.invokes
			if limit == 0 {
				limit = 100
			}
			got := drive(t, p, recs, tc.step, limit, tc.script)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(tc.want, "\n\t"))
			}
		})
	}
}

// TestBackoff checks the waits: RetryBackoff over consecutive failures,
// ThrottleBackoff over consecutive throttles, capped, reset by a success.
func TestBackoff(t *testing.T) {
	ms := time.Millisecond
	p := policy(func(p *retry.Policy) {
		p.RetryBackoff = retry.Backoff{Initial: 100 * ms, Max: 500 * ms}
		p.ThrottleBackoff = retry.Backoff{Initial: time.Second, Max: 3 * time.Second}
	})
	throttle := retry.Throttled(nil)
	fail := retry.Result(events.KinesisEventResponse{}, errBoom)
	steps := []struct {
		o    retry.Outcome
		want time.Duration // wait before the next invocation, upper bound
	}{
		{fail, 100 * ms}, {fail, 200 * ms}, {fail, 400 * ms}, {fail, 500 * ms}, {fail, 500 * ms},
		{throttle, time.Second}, {throttle, 2 * time.Second}, {throttle, 3 * time.Second}, {throttle, 3 * time.Second},
		{fail, 500 * ms}, // a throttle does not reset the failure streak
		{retry.Outcome{}, 0},
	}
	for _, src := range []struct {
		name string
		src  rand.Source
		low  bool // every wait is its lower bound
		high bool // every wait is its upper bound
	}{
		{"lower bound", constSource(0), true, false},
		{"upper bound", constSource(math.MaxUint64), false, true},
		{"random", rand.NewPCG(1, 2), false, false},
	} {
		t.Run(src.name, func(t *testing.T) {
			// A batch of many records, so that each step is a new batch.
			pl := retry.NewPlan(p, records(1, nil), src.src)
			now := t0
			for i, s := range steps {
				a := pl.Next(now)
				if a.Kind != retry.Invoke {
					t.Fatalf("step %d: got %v, want invoke", i, a.Kind)
				}
				pl.Report(now, s.o)
				a = pl.Next(now)
				if s.want == 0 {
					if a.Kind != retry.Done {
						t.Fatalf("step %d: got %v, want done", i, a.Kind)
					}
					continue
				}
				if a.Kind != retry.Wait {
					t.Fatalf("step %d: got %v, want wait", i, a.Kind)
				}
				lo, hi := s.want/2, s.want
				switch {
				case src.low:
					hi = lo
				case src.high:
					lo = hi
				}
				if a.Delay < lo || a.Delay > hi {
					t.Errorf("step %d: got wait %v, want in [%v, %v]", i, a.Delay, lo, hi)
				}
				// Waiting part of the delay leaves the rest to wait.
				if a2 := pl.Next(now.Add(a.Delay / 2)); a2.Kind != retry.Wait || a2.Delay != a.Delay-a.Delay/2 {
					t.Errorf("step %d: after half the wait got %v %v, want wait %v", i, a2.Kind, a2.Delay, a.Delay-a.Delay/2)
				}
				now = now.Add(a.Delay)
			}
		})
	}
}

// TestDefaultBackoff checks the documented defaults through a zero Backoff.
func TestDefaultBackoff(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    retry.Outcome
		want []time.Duration
	}{
		{"function error", retry.Result(events.KinesisEventResponse{}, errBoom),
			[]time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond,
				1600 * time.Millisecond, 3200 * time.Millisecond, 5 * time.Second, 5 * time.Second}},
		{"throttle", retry.Throttled(nil),
			[]time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, p := range []retry.Policy{{MaximumRetryAttempts: -1}, retry.DefaultPolicy()} {
				pl := retry.NewPlan(p, records(1, nil), constSource(math.MaxUint64))
				now := t0
				for i, want := range tc.want {
					pl.Next(now)
					pl.Report(now, tc.o)
					if a := pl.Next(now); a.Delay != want {
						t.Fatalf("%+v: wait %d: got %v, want %v", p, i, a.Delay, want)
					}
					now = now.Add(want)
				}
			}
		})
	}
}

func TestDiscardErrors(t *testing.T) {
	errThrottle := errors.New("429")
	tests := []struct {
		name     string
		p        retry.Policy
		age      time.Duration
		outcomes []retry.Outcome
		reason   error
		last     error // matched with errors.Is; nil means Last is nil
		msg      string
	}{
		{
			name: "function error", p: retry.Policy{},
			outcomes: []retry.Outcome{retry.Result(events.KinesisEventResponse{}, errBoom)},
			reason:   retry.ErrRetriesExhausted, last: errBoom,
			msg: "retry: retry attempts exhausted: boom",
		},
		{
			name: "permanent", p: retry.DefaultPolicy(),
			outcomes: []retry.Outcome{retry.Result(events.KinesisEventResponse{}, fmt.Errorf("wrapped: %w", retry.Permanent(errBoom)))},
			reason:   retry.ErrRetriesExhausted, last: errBoom,
			msg: "retry: retry attempts exhausted: wrapped: boom",
		},
		{
			name: "invalid response", p: retry.Policy{ReportBatchItemFailures: true},
			outcomes: []retry.Outcome{raw(`[]`)},
			reason:   retry.ErrRetriesExhausted, last: retry.ErrInvalidResponse,
		},
		{
			name: "partial failure", p: retry.Policy{ReportBatchItemFailures: true},
			outcomes: []retry.Outcome{retry.Result(fails(1), nil)},
			reason:   retry.ErrRetriesExhausted, last: retry.ErrBatchItemFailure,
			msg: "retry: retry attempts exhausted: retry: batch item failure: sequence number " + seq(0),
		},
		{
			name: "expired before any invocation", p: retry.Policy{MaximumRecordAge: time.Minute}, age: time.Hour,
			reason: retry.ErrRecordExpired, last: nil, msg: "retry: record age exceeded",
		},
		{
			name: "expired while throttled", p: retry.Policy{MaximumRecordAge: time.Minute}, age: 59600 * time.Millisecond,
			outcomes: []retry.Outcome{retry.Throttled(errThrottle)}, // waits at least 0.5 s
			reason:   retry.ErrRecordExpired, last: errThrottle, msg: "retry: record age exceeded: 429",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pl := retry.NewPlan(tc.p, records(1, func(int) time.Time { return t0.Add(-tc.age) }), nil)
			now := t0
			var a retry.Action
			for _, o := range tc.outcomes {
				if a = pl.Next(now); a.Kind != retry.Invoke {
					t.Fatalf("got %v, want invoke", a.Kind)
				}
				pl.Report(now, o)
			}
			for a = pl.Next(now); a.Kind == retry.Wait; a = pl.Next(now) {
				now = now.Add(a.Delay)
			}
			if a.Kind != retry.Discard {
				t.Fatalf("got %v, want discard", a.Kind)
			}
			if !errors.Is(a.Err, tc.reason) {
				t.Errorf("got %v, want it to match %v", a.Err, tc.reason)
			}
			var g *retry.GiveUpError
			if !errors.As(a.Err, &g) {
				t.Fatalf("got %T, want *retry.GiveUpError", a.Err)
			}
			if tc.last == nil && g.Last != nil || tc.last != nil && !errors.Is(g.Last, tc.last) {
				t.Errorf("got Last %v, want %v", g.Last, tc.last)
			}
			if tc.last != nil && !errors.Is(a.Err, tc.last) {
				t.Errorf("got %v, want errors.Is to match Last %v", a.Err, tc.last)
			}
			if tc.msg != "" && a.Err.Error() != tc.msg {
				t.Errorf("got %q, want %q", a.Err.Error(), tc.msg)
			}
		})
	}
}

func TestPermanent(t *testing.T) {
	if retry.Permanent(nil) != nil {
		t.Error("Permanent(nil) is not nil")
	}
	p := retry.Permanent(errBoom)
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false}, {errBoom, false}, {p, true}, {fmt.Errorf("x: %w", p), true},
		{errors.Join(errBoom, p), true},
	} {
		if got := retry.IsPermanent(tc.err); got != tc.want {
			t.Errorf("IsPermanent(%v): got %v, want %v", tc.err, got, tc.want)
		}
	}
	if !errors.Is(p, errBoom) || p.Error() != "boom" {
		t.Errorf("got %q, want it to unwrap to and read as %q", p, errBoom)
	}
}

// TestUnorderedBatch checks that identifiers are still found, by a slower
// scan, when a caller's records are not in sequence order.
func TestUnorderedBatch(t *testing.T) {
	recs := records(6, nil)
	recs[1], recs[4] = recs[4], recs[1]
	recs[2].Kinesis.SequenceNumber = "7" // shorter than the others
	got := drive(t, rbif, recs, 0, 10, once(retry.Result(events.KinesisEventResponse{
		BatchItemFailures: []events.KinesisBatchItemFailure{{ItemIdentifier: seq(1)}, {ItemIdentifier: "7"}}}, nil)))
	want := []string{"invoke 1-6 a0", "invoke 3-6 a1", "done"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestNextRepeatsInvoke checks that Next returns the outstanding Invoke until
// Report, whatever the time.
func TestNextRepeatsInvoke(t *testing.T) {
	pl := retry.NewPlan(retry.Policy{MaximumRecordAge: time.Minute}, records(3, nil), nil)
	a := pl.Next(t0)
	if b := pl.Next(t0.Add(time.Hour)); b != a {
		t.Fatalf("got %+v, want %+v", b, a)
	}
	pl.Report(t0, retry.Outcome{})
	if b := pl.Next(t0); b.Kind != retry.Done || pl.Finished() != 3 {
		t.Fatalf("got %v with Finished %d, want done with 3", b.Kind, pl.Finished())
	}
	if b := pl.Next(t0); b.Kind != retry.Done {
		t.Fatalf("got %v after done, want done", b.Kind)
	}
}

func TestReportWithoutInvokePanics(t *testing.T) {
	pl := retry.NewPlan(retry.DefaultPolicy(), records(1, nil), nil)
	defer func() {
		if recover() == nil {
			t.Error("Report without Invoke did not panic")
		}
	}()
	pl.Report(t0, retry.Outcome{})
}

func TestKindString(t *testing.T) {
	for k, want := range map[retry.Kind]string{retry.Done: "done", retry.Invoke: "invoke", retry.Wait: "wait",
		retry.Discard: "discard", 9: "retry.Kind(9)"} {
		if got := k.String(); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

// TestResponseRoundTrip checks that an events.KinesisEventResponse marshalled
// by encoding/json parses back unchanged.
func TestResponseRoundTrip(t *testing.T) {
	for _, resp := range []events.KinesisEventResponse{
		{}, {BatchItemFailures: []events.KinesisBatchItemFailure{}}, fails(1), fails(3, 1, 3),
	} {
		b, err := json.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		got, err := retry.ParseResponse(b)
		if err != nil || !reflect.DeepEqual(got, resp) {
			t.Errorf("ParseResponse(%s): got %+v, %v, want %+v", b, got, err, resp)
		}
	}
}

func TestParseResponse(t *testing.T) {
	tests := []struct {
		in   string
		want []string // nil: success; "-": invalid
	}{
		{`null`, nil},
		{`{}`, nil},
		{` {"other": 1} `, nil},
		{`{"batchItemFailures":null}`, nil},
		{`{"batchItemFailures":[]}`, []string{}},
		{`{"batchItemFailures":[{"itemIdentifier":"1"},{"itemIdentifier":"2","x":true}]}`, []string{"1", "2"}},
		{`{"batchItemFailures":[{"itemIdentifier":""}]}`, []string{"-"}},
		{`{"batchItemFailures":[{"itemIdentifier":null}]}`, []string{"-"}},
		{`{"batchItemFailures":[{"itemId":"1"}]}`, []string{"-"}},
		{`{"batchItemFailures":[{"ItemIdentifier":"1"}]}`, []string{"-"}},
		{`{"BatchItemFailures":[{"itemIdentifier":"1"}]}`, []string{"-"}},
		{`{"batchItemFailures":[{"itemIdentifier":1}]}`, []string{"-"}},
		{`{"batchItemFailures":[null]}`, []string{"-"}},
		{`{"batchItemFailures":["1"]}`, []string{"-"}},
		{`{"batchItemFailures":{}}`, []string{"-"}},
		{`{"batchItemFailures":"1"}`, []string{"-"}},
		{`[]`, []string{"-"}},
		{`"x"`, []string{"-"}},
		{`1`, []string{"-"}},
		{``, []string{"-"}},
		{`{`, []string{"-"}},
		{`{} {}`, []string{"-"}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := retry.ParseResponse([]byte(tc.in))
			if len(tc.want) == 1 && tc.want[0] == "-" {
				if !errors.Is(err, retry.ErrInvalidResponse) {
					t.Fatalf("got %+v, %v, want an error matching ErrInvalidResponse", got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want %v", err, tc.want)
			}
			var ids []string
			if got.BatchItemFailures != nil {
				ids = []string{}
			}
			for _, f := range got.BatchItemFailures {
				ids = append(ids, f.ItemIdentifier)
			}
			if !reflect.DeepEqual(ids, tc.want) {
				t.Errorf("got %#v, want %#v", ids, tc.want)
			}
		})
	}
}
