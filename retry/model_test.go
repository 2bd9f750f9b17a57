package retry_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/esmkit/esmkit/retry"
)

// This file checks Plan against a sequential reference model: a direct,
// recursive transcription of the pseudo-code of spec §9.2, plus the pacing
// documented on Policy. Both are driven by the same simulated function over
// thousands of random batches, policies, failure patterns and clocks, and
// must produce the same invocations (range, attempt and start time), the same
// discards (range, condition, invoke count, reason and last error) and the
// same Finished after each step.

// fnResult is what the simulated function did in one invocation. The model
// reads the fields; the Plan gets the Outcome built from them.
type fnResult struct {
	dur       time.Duration
	throttle  bool
	err       error    // a function error
	ids       []string // the response's item identifiers (nil: none)
	raw       []byte   // if set, the response is this JSON rather than ids
	invalid   bool     // the response is invalid, as generated
	permanent bool
}

func (r fnResult) outcome() retry.Outcome {
	switch {
	case r.throttle:
		return retry.Throttled(r.err)
	case r.raw != nil:
		return retry.RawResult(r.raw, r.err)
	}
	var resp events.KinesisEventResponse
	if r.ids != nil {
		resp.BatchItemFailures = []events.KinesisBatchItemFailure{}
	}
	for _, id := range r.ids {
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.KinesisBatchItemFailure{ItemIdentifier: id})
	}
	return retry.Result(resp, r.err)
}

// modelCase is one random scenario.
type modelCase struct {
	seed     uint64
	p        retry.Policy
	high     bool // jitter source returns its maximum: every wait is its bound d
	recs     []events.KinesisEventRecord
	failing  []bool // records that fail every invocation that includes them
	throttle int    // percent of invocations throttled
	flaky    int    // percent of invocations that fail whatever they hold
	perm     int    // percent of function errors that are permanent
	budget   int    // invocations before the run is cut off
}

func (c *modelCase) src() rand.Source {
	if c.high {
		return constSource(math.MaxUint64)
	}
	return constSource(0)
}

func newModelCase(seed uint64) *modelCase {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	c := &modelCase{seed: seed, high: r.IntN(2) == 0, budget: 40 + r.IntN(160)}
	c.p.MaximumRetryAttempts = []int{-1, 0, 1, 2, 3, 5}[r.IntN(6)]
	c.p.MaximumRecordAge = []time.Duration{-1, 0, time.Minute, 2 * time.Minute, 10 * time.Minute}[r.IntN(5)]
	c.p.BisectBatchOnFunctionError = r.IntN(2) == 0
	c.p.ReportBatchItemFailures = r.IntN(3) > 0
	c.p.KeepAttemptsOnSplit = r.IntN(3) == 0
	if r.IntN(3) > 0 {
		c.p.RetryBackoff.Initial = time.Duration(1+r.IntN(2000)) * time.Millisecond
		c.p.RetryBackoff.Max = c.p.RetryBackoff.Initial * time.Duration(1+r.IntN(50))
	}
	if r.IntN(3) > 0 {
		c.p.ThrottleBackoff.Initial = time.Duration(1+r.IntN(3000)) * time.Millisecond
		c.p.ThrottleBackoff.Max = c.p.ThrottleBackoff.Initial * time.Duration(1+r.IntN(50))
	}

	n := 1 + r.IntN(12)
	switch r.IntN(10) {
	case 0:
		n = 0
	case 1, 2:
		n = 1 + r.IntN(200)
	}
	// Sequence numbers increase by random steps from a random start, which
	// sometimes crosses a power of ten, so lengths differ.
	start := uint64(1 + r.IntN(1000))
	if r.IntN(2) == 0 {
		start = uint64(math.Pow10(1+r.IntN(18))) - uint64(r.IntN(300))
	}
	orderedArrivals := r.IntN(2) == 0
	c.recs = make([]events.KinesisEventRecord, n)
	c.failing = make([]bool, n)
	density := r.IntN(30)
	for i := range c.recs {
		c.recs[i].Kinesis.SequenceNumber = strconv.FormatUint(start, 10)
		start += uint64(1 + r.IntN(1000))
		age := time.Duration(r.IntN(180_000)) * time.Millisecond
		if orderedArrivals {
			age = time.Duration(n-i) * time.Second
		}
		if r.IntN(50) > 0 { // else a zero time, which never expires
			c.recs[i].Kinesis.ApproximateArrivalTimestamp.Time = t0.Add(-age)
		}
		c.failing[i] = r.IntN(100) < density
	}
	c.throttle = []int{0, 0, 5, 30}[r.IntN(4)]
	c.flaky = []int{0, 0, 10, 40}[r.IntN(4)]
	c.perm = []int{0, 0, 0, 10}[r.IntN(4)]
	return c
}

// behave is the simulated function's k-th invocation, of records[lo:hi]. It
// depends only on the case, k and the range, so that the model and the Plan
// see the same behaviour as long as their invocations agree.
func (c *modelCase) behave(k, lo, hi int) fnResult {
	r := rand.New(rand.NewPCG(c.seed, uint64(k)+1))
	res := fnResult{dur: time.Duration(r.IntN(20_000)) * time.Millisecond}
	if r.IntN(100) < c.throttle {
		res.throttle = true
		if r.IntN(2) == 0 {
			res.err = fmt.Errorf("throttle %d", k)
		}
		return res
	}
	var bad []int
	for i := lo; i < hi; i++ {
		if c.failing[i] {
			bad = append(bad, i)
		}
	}
	if len(bad) == 0 && r.IntN(100) >= c.flaky {
		switch r.IntN(6) {
		case 0:
			res.ids = []string{}
		case 1:
			res.raw = []byte([]string{`null`, `{}`, `{"batchItemFailures":[]}`, `{"batchItemFailures":null}`, `{"x":1}`}[r.IntN(5)])
		case 2:
			if !c.p.ReportBatchItemFailures { // ignored: still a success
				res.ids = []string{c.recs[lo+r.IntN(hi-lo)].Kinesis.SequenceNumber}
			}
		case 3:
			if !c.p.ReportBatchItemFailures {
				res.raw = []byte(`not json`)
			}
		}
		return res
	}
	if len(bad) == 0 { // a flaky failure picks a random record
		bad = []int{lo + r.IntN(hi-lo)}
	}
	seqOf := func(i int) string { return c.recs[i].Kinesis.SequenceNumber }
	switch v := r.IntN(10); {
	case v < 3: // function error, sometimes with a response that must be ignored
		res.err = fmt.Errorf("function error %d", k)
		if r.IntN(100) < c.perm {
			res.err = retry.Permanent(res.err)
			res.permanent = true
		}
		if r.IntN(3) == 0 {
			res.ids = []string{seqOf(bad[0])}
		}
	case v < 8: // a valid partial response: some failing records, maybe others, any order
		for _, i := range bad {
			if r.IntN(2) == 0 || len(res.ids) == 0 {
				res.ids = append(res.ids, seqOf(i))
			}
		}
		for range r.IntN(3) {
			res.ids = append(res.ids, seqOf(lo+r.IntN(hi-lo)))
		}
		r.Shuffle(len(res.ids), func(i, j int) { res.ids[i], res.ids[j] = res.ids[j], res.ids[i] })
		if r.IntN(2) == 0 {
			res.raw = mustMarshal(res.ids)
		}
	default: // an invalid partial response
		res.invalid = true
		switch r.IntN(6) {
		case 0:
			res.ids = []string{seqOf(bad[0]), ""}
		case 1: // a record outside the invoked range, or not in the batch
			id := "1" + seqOf(len(c.recs)-1)
			if lo > 0 && r.IntN(2) == 0 {
				id = seqOf(r.IntN(lo))
			} else if hi < len(c.recs) && r.IntN(2) == 0 {
				id = seqOf(hi + r.IntN(len(c.recs)-hi))
			}
			res.ids = []string{seqOf(bad[0]), id}
		case 2:
			res.raw = []byte(`{"batchItemFailures":[{"itemIdentifier":null}]}`)
		case 3:
			res.raw = []byte(`{"batchItemFailures":[{"itemId":"` + seqOf(bad[0]) + `"}]}`)
		case 4:
			res.raw = []byte(`{"batchItemFailures":[`)
		case 5:
			res.raw = []byte(`[{"itemIdentifier":"` + seqOf(bad[0]) + `"}]`)
		}
	}
	return res
}

func mustMarshal(ids []string) []byte {
	resp := events.KinesisEventResponse{BatchItemFailures: []events.KinesisBatchItemFailure{}}
	for _, id := range ids {
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.KinesisBatchItemFailure{ItemIdentifier: id})
	}
	b, err := json.Marshal(resp)
	if err != nil {
		panic(err)
	}
	return b
}

// step is one observable event of a run.
type step struct {
	kind     retry.Kind // Invoke, Discard or Done
	lo, hi   int
	attempt  int
	at       time.Time // Invoke: when it started
	finished int       // Invoke: Finished after the outcome; Discard: after it

	// Discard.
	cond    retry.Condition
	invokes int
	reason  error
	last    error // want: got.last is or reads as want.last; nil means nil
}

func (s step) String() string {
	switch s.kind {
	case retry.Invoke:
		return fmt.Sprintf("invoke [%d,%d) a%d at %v finished %d", s.lo, s.hi, s.attempt, s.at.Sub(t0), s.finished)
	case retry.Discard:
		return fmt.Sprintf("discard [%d,%d) a%d %s x%d finished %d (%v)", s.lo, s.hi, s.attempt, s.cond, s.invokes, s.finished, s.last)
	default:
		return s.kind.String()
	}
}

// model is the reference: process is spec §9.2's pseudo-code.
type model struct {
	c         *modelCase
	clock     time.Time
	notBefore time.Time
	fails     int
	throttles int
	finished  int
	k         int // invocations made
	stopped   bool
	steps     []step
}

func runModel(c *modelCase) []step {
	m := &model{c: c, clock: t0}
	m.process(0, len(c.recs), 0, 0, nil)
	if !m.stopped {
		m.steps = append(m.steps, step{kind: retry.Done})
	}
	return m.steps
}

func (m *model) exhausted(a int) bool {
	return m.c.p.MaximumRetryAttempts != -1 && a >= m.c.p.MaximumRetryAttempts
}

// wait is Policy's documented pacing: the k-th consecutive failure waits
// Initial doubled k-1 times, at most Max, jittered down to as little as half.
func (m *model) wait(b, def retry.Backoff, k int) {
	if b == (retry.Backoff{}) {
		b = def
	}
	d := b.Initial
	for i := 1; i < k && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	if !m.c.high {
		d /= 2
	}
	m.notBefore = m.clock.Add(d)
}

func (m *model) discard(lo, hi, attempts, invokes int, cond retry.Condition, reason, last error) {
	m.finished = hi
	m.steps = append(m.steps, step{kind: retry.Discard, lo: lo, hi: hi, attempt: attempts, finished: hi,
		cond: cond, invokes: invokes, reason: reason, last: last})
}

// process handles records[lo:hi], which have had attempts retries and
// invokes invocations; last is the last error of one of those.
func (m *model) process(lo, hi, attempts, invokes int, last error) {
	if m.stopped {
		return
	}
	if m.clock.Before(m.notBefore) {
		m.clock = m.notBefore
	}
	// expired := maximal prefix older than MaximumRecordAge
	if age := m.c.p.MaximumRecordAge; age > 0 {
		k := lo
		for k < hi {
			t := m.c.recs[k].Kinesis.ApproximateArrivalTimestamp.Time
			if t.IsZero() || m.clock.Sub(t) <= age {
				break
			}
			k++
		}
		if k > lo {
			m.discard(lo, k, attempts, invokes, retry.RecordAgeExceeded, retry.ErrRecordExpired, last)
			lo = k
		}
	}
	if lo == hi {
		return
	}
	if m.k == m.c.budget {
		m.stopped = true
		return
	}
	// outcome := invoke(batch)
	res := m.c.behave(m.k, lo, hi)
	m.k++
	inv := len(m.steps)
	m.steps = append(m.steps, step{kind: retry.Invoke, lo: lo, hi: hi, attempt: attempts, at: m.clock})
	m.clock = m.clock.Add(res.dur)
	m.steps[inv].finished = m.finished // updated below before recursing

	if res.throttle {
		m.throttles++
		m.wait(m.c.p.ThrottleBackoff, retry.Backoff{Initial: time.Second, Max: 30 * time.Second}, m.throttles)
		m.process(lo, hi, attempts, invokes, res.err)
		return
	}
	m.throttles = 0
	invokes++

	var err error // nil: success
	cut := -1     // partial failure: the lowest failed record
	switch {
	case res.err != nil:
		err = res.err
	case !m.c.p.ReportBatchItemFailures:
	case res.invalid:
		err = retry.ErrInvalidResponse
	case len(res.ids) > 0:
		err = retry.ErrBatchItemFailure
		cut = hi
		for _, id := range res.ids {
			for i := lo; i < hi; i++ {
				if m.c.recs[i].Kinesis.SequenceNumber == id {
					cut = min(cut, i)
				}
			}
		}
	}
	if err == nil { // success: checkpoint past batch
		m.fails = 0
		m.notBefore = time.Time{}
		m.finished = hi
		m.steps[inv].finished = m.finished
		return
	}
	m.fails++
	m.wait(m.c.p.RetryBackoff, retry.Backoff{Initial: 100 * time.Millisecond, Max: 5 * time.Second}, m.fails)

	if cut >= 0 { // partialFailure(s)
		m.finished = cut
		m.steps[inv].finished = m.finished
		if m.exhausted(attempts) {
			m.discard(cut, hi, attempts, invokes, retry.RetryAttemptsExhausted, retry.ErrRetriesExhausted, err)
		} else {
			m.process(cut, hi, attempts+1, invokes, err)
		}
		return
	}
	// functionError / invalidPartialResponse
	switch {
	case res.permanent:
		m.discard(lo, hi, attempts, invokes, retry.RetryAttemptsExhausted, retry.ErrRetriesExhausted, err)
	case m.c.p.BisectBatchOnFunctionError && hi-lo > 1:
		k := (hi - lo + 1) / 2
		a := 0
		if m.c.p.KeepAttemptsOnSplit {
			a = attempts
		}
		m.process(lo, lo+k, a, invokes, err)
		m.process(lo+k, hi, a, invokes, err)
	case m.exhausted(attempts):
		m.discard(lo, hi, attempts, invokes, retry.RetryAttemptsExhausted, retry.ErrRetriesExhausted, err)
	default:
		m.process(lo, hi, attempts+1, invokes, err)
	}
}

// runPlan drives a Plan through the same case, checking Finished on the way.
func runPlan(t *testing.T, c *modelCase) []step {
	t.Helper()
	pl := retry.NewPlan(c.p, c.recs, c.src())
	now := t0
	var steps []step
	k := 0
	prev := 0
	// invoked counts, per record, the invocations that included it, to check
	// that InvokeCount is the same for every discarded record.
	invoked := make([]int, len(c.recs))
	for {
		a := pl.Next(now)
		f := pl.Finished()
		if f < prev {
			t.Fatalf("Finished went from %d to %d", prev, f)
		}
		prev = f
		switch a.Kind {
		case retry.Wait:
			if a.Delay <= 0 {
				t.Fatalf("got Wait %v, want a positive delay", a.Delay)
			}
			now = now.Add(a.Delay)
		case retry.Discard:
			if f != a.Hi || a.Lo >= a.Hi {
				t.Fatalf("Discard [%d,%d) with Finished %d", a.Lo, a.Hi, f)
			}
			for i := a.Lo; i < a.Hi; i++ {
				if invoked[i] != a.InvokeCount {
					t.Fatalf("Discard [%d,%d) InvokeCount %d, but record %d was in %d invocations", a.Lo, a.Hi, a.InvokeCount, i, invoked[i])
				}
			}
			var g *retry.GiveUpError
			if !errors.As(a.Err, &g) {
				t.Fatalf("Discard Err %T, want *retry.GiveUpError", a.Err)
			}
			steps = append(steps, step{kind: retry.Discard, lo: a.Lo, hi: a.Hi, attempt: a.Attempt, finished: f,
				cond: a.Condition, invokes: a.InvokeCount, reason: g.Reason, last: g.Last})
		case retry.Invoke:
			if f != a.Lo || a.Lo >= a.Hi {
				t.Fatalf("Invoke [%d,%d) with Finished %d", a.Lo, a.Hi, f)
			}
			if k == c.budget {
				return steps
			}
			if again := pl.Next(now.Add(time.Hour)); again != a {
				t.Fatalf("Next before Report: got %+v, want %+v", again, a)
			}
			res := c.behave(k, a.Lo, a.Hi)
			k++
			at := now
			now = now.Add(res.dur)
			pl.Report(now, res.outcome())
			if !res.throttle {
				for i := a.Lo; i < a.Hi; i++ {
					invoked[i]++
				}
			}
			steps = append(steps, step{kind: retry.Invoke, lo: a.Lo, hi: a.Hi, attempt: a.Attempt, at: at, finished: pl.Finished()})
		case retry.Done:
			if f != len(c.recs) {
				t.Fatalf("Done with Finished %d, want %d", f, len(c.recs))
			}
			return append(steps, step{kind: retry.Done})
		}
	}
}

func sameStep(got, want step) bool {
	if got.kind != want.kind || got.lo != want.lo || got.hi != want.hi || got.attempt != want.attempt ||
		!got.at.Equal(want.at) || got.finished != want.finished || got.cond != want.cond ||
		got.invokes != want.invokes || !errors.Is(got.reason, want.reason) {
		return false
	}
	if want.last == nil {
		return got.last == nil
	}
	// Each run makes its own function errors: equal text is the same error.
	return errors.Is(got.last, want.last) || got.last != nil && got.last.Error() == want.last.Error()
}

func TestModel(t *testing.T) {
	cases := 5000
	if testing.Short() {
		cases = 500
	}
	kinds := map[string]int{}
	for seed := range uint64(cases) {
		c := newModelCase(seed)
		want := runModel(c)
		got := runPlan(t, c)
		for i := range max(len(got), len(want)) {
			if i >= len(got) || i >= len(want) || !sameStep(got[i], want[i]) {
				var g, w step
				if i < len(got) {
					g = got[i]
				}
				if i < len(want) {
					w = want[i]
				}
				t.Fatalf("seed %d, policy %+v, %d records: step %d:\n got  %v\n want %v\nsteps before: %v",
					seed, c.p, len(c.recs), i, g, w, want[:min(i, len(want))])
			}
		}
		for _, s := range want {
			switch s.kind {
			case retry.Discard:
				kinds[string(s.cond)]++
			case retry.Invoke:
				if s.attempt > 0 {
					kinds["retry"]++
				}
				if s.hi-s.lo == 1 {
					kinds["single"]++
				}
			default:
				kinds[s.kind.String()]++
			}
		}
		if len(want) > 0 && want[len(want)-1].kind != retry.Done {
			kinds["cut off"]++
		}
	}
	// The random cases must reach every branch, or the comparison proves little.
	for _, k := range []string{"done", "cut off", "retry", "single", string(retry.RetryAttemptsExhausted), string(retry.RecordAgeExceeded)} {
		if kinds[k] < cases/50 {
			t.Errorf("only %d of %d cases reached %q", kinds[k], cases, k)
		}
	}
	t.Logf("coverage of %d cases: %v", cases, kinds)
}

// TestModelFinished checks, over the same random cases, that Finished never
// passes an unfinished record, from the simulated function's side: every
// record before Finished was in a successful invocation, before the cut of a
// partial failure, or discarded.
func TestModelFinished(t *testing.T) {
	for seed := range uint64(300) {
		c := newModelCase(seed)
		steps := runModel(c)
		done := make([]bool, len(c.recs))
		for _, s := range steps {
			if s.kind == retry.Discard {
				for i := s.lo; i < s.hi; i++ {
					if done[i] {
						t.Fatalf("seed %d: record %d discarded twice or after success", seed, i)
					}
					done[i] = true
				}
			}
			if s.kind == retry.Invoke {
				for i := s.lo; i < s.finished; i++ {
					done[i] = true
				}
			}
			if s.kind != retry.Done && slices.Contains(done[:s.finished], false) {
				t.Fatalf("seed %d: after %v a record before %d is unfinished", seed, s, s.finished)
			}
		}
	}
}
