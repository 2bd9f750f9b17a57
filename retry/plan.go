package retry

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Kind is what an [Action] asks the caller to do.
type Kind uint8

const (
	// Done means every record is finished: Finished equals the number of
	// records.
	Done Kind = iota
	// Invoke means call the function with records[Lo:Hi] now, then Report.
	Invoke
	// Wait means sleep for Delay (or until the context is done), then call
	// Next.
	Wait
	// Discard means give up records[Lo:Hi]: hand them to the on-failure
	// destination, then call Next. They already count as finished.
	Discard
)

func (k Kind) String() string {
	switch k {
	case Done:
		return "done"
	case Invoke:
		return "invoke"
	case Wait:
		return "wait"
	case Discard:
		return "discard"
	}
	return fmt.Sprintf("retry.Kind(%d)", uint8(k))
}

// Condition is why records were discarded, as Lambda writes it in the
// requestContext.condition field of an on-failure record.
type Condition string

const (
	// RetryAttemptsExhausted means the records failed their first invocation and
	// MaximumRetryAttempts retries, or failed with a [Permanent] error.
	RetryAttemptsExhausted Condition = "RetryAttemptsExhausted"
	// RecordAgeExceeded means the records were older than MaximumRecordAge when
	// they were next to be invoked.
	RecordAgeExceeded Condition = "RecordAgeExceeded"
)

// Action is the next step for the caller of [Plan.Next]. Lo and Hi index the
// records passed to [NewPlan]. The zero Action is Done.
type Action struct {
	Kind   Kind
	Lo, Hi int // Invoke, Discard: the records concerned, records[Lo:Hi]

	// Attempt is, for Invoke and Discard, how many retries of this range have
	// been made: 0 on its first invocation, after a split (unless
	// KeepAttemptsOnSplit) and after a cut by a partial response, which counts.
	Attempt int

	Delay time.Duration // Wait: how long to wait before calling Next again

	// Discard only.
	Condition Condition // RetryAttemptsExhausted or RecordAgeExceeded
	// InvokeCount is how many invocations included these records, whole
	// ranges and the ranges they were split from alike; throttled calls are
	// not counted. It is Lambda's approximateInvokeCount: 3 for a range that
	// always fails under MaximumRetryAttempts 2 without bisect; 0 for records
	// that expired before their first invocation.
	InvokeCount int
	Err         error // a *GiveUpError
}

// GiveUpError explains a discard: the reason, [ErrRetriesExhausted] or
// [ErrRecordExpired], and the last error of an invocation that included the
// records (a function error, an error wrapping [ErrInvalidResponse] or
// [ErrBatchItemFailure], or a throttle's error), nil if there was none.
// errors.Is matches both.
type GiveUpError struct {
	Reason error
	Last   error
}

func (e *GiveUpError) Error() string {
	if e.Last == nil {
		return e.Reason.Error()
	}
	return e.Reason.Error() + ": " + e.Last.Error()
}

// Unwrap returns Reason and, if set, Last.
func (e *GiveUpError) Unwrap() []error {
	if e.Last == nil {
		return []error{e.Reason}
	}
	return []error{e.Reason, e.Last}
}

// span is a range of records being processed, records[lo:hi]. Every
// invocation so far either included all of a span's records or none of
// them, because spans only shrink (cut from the left) or split.
type span struct {
	lo, hi   int
	attempts int   // retries made; compared with MaximumRetryAttempts
	invokes  int   // invocations that included the records
	last     error // the last error of such an invocation, or of a throttle
}

// Plan decides, for one batch, which records to invoke, when, and which to
// discard. It is a plain state machine: it starts no goroutines, does no I/O
// and reads no clock; the caller passes the current time to [Plan.Next] and
// [Plan.Report]; no method blocks. A Plan is not safe for concurrent use;
// each shard or lane drives its own. The zero Plan has no records: Next
// returns Done.
//
//	pl := retry.NewPlan(policy, records, nil)
//	for {
//		a := pl.Next(time.Now())
//		switch a.Kind {
//		case retry.Invoke:
//			resp, err := handler(ctx, events.KinesisEvent{Records: records[a.Lo:a.Hi]})
//			pl.Report(time.Now(), retry.Result(resp, err))
//		case retry.Wait:
//			sleep(ctx, a.Delay)
//		case retry.Discard:
//			sendToDestination(records[a.Lo:a.Hi], a)
//		case retry.Done:
//			return
//		}
//		checkpoint(records[:pl.Finished()])
//	}
type Plan struct {
	policy  Policy
	records []events.KinesisEventRecord
	src     rand.Source // nil: math/rand/v2's global source

	cur     span   // being processed; empty (lo == hi) between spans
	pending []span // right halves of splits, the next one last
	discard Action // a Discard decided by Report, for Next to return

	finished  int  // records[:finished] succeeded or were discarded
	inflight  bool // Next returned Invoke and Report has not been called
	notBefore time.Time
	fails     int // consecutive failed invocations, for RetryBackoff
	throttles int // consecutive throttled invocations, for ThrottleBackoff
}

// NewPlan returns a Plan for records, which must be in sequence order, as
// one shard's records are; p applies throughout. The Plan keeps records and
// reads each record's SequenceNumber and ApproximateArrivalTimestamp; a
// record with a zero arrival time never expires. src supplies the backoff
// jitter; nil uses math/rand/v2's global source, which is safe to share.
//
// NewPlan does not validate p: call [Policy.Validate] once when the policy is
// configured. An invalid p still gives defined decisions: a negative
// MaximumRetryAttempts is unlimited, and an invalid [Backoff] is repaired.
func NewPlan(p Policy, records []events.KinesisEventRecord, src rand.Source) *Plan {
	return &Plan{policy: p, records: records, src: src, cur: span{hi: len(records)}}
}

// Finished returns how many leading records are finished: they succeeded, or
// were discarded by an Action that Next has returned. The caller may
// checkpoint records[Finished()-1] once it has handed those discards to the
// destination. Finished never decreases and never counts a record that is
// still to be invoked or retried.
func (pl *Plan) Finished() int { return pl.finished }

// Next returns what to do at time now. Until Invoke is followed by
// [Plan.Report], Next returns the same Invoke again. Discard and Done need no
// report: the caller acts on a Discard and calls Next again.
//
// Records at the start of the range about to be invoked whose age exceeds
// MaximumRecordAge at now are discarded first, and never invoked; age is
// checked again after every Wait. Only a prefix is discarded, so that
// Finished stays contiguous even though arrival times may go backwards.
func (pl *Plan) Next(now time.Time) Action {
	if pl.inflight {
		return pl.invoke()
	}
	if pl.discard.Kind == Discard {
		a := pl.discard
		pl.discard = Action{}
		pl.finished = a.Hi
		return a
	}
	c := &pl.cur
	if c.lo == c.hi {
		n := len(pl.pending)
		if n == 0 {
			return Action{Kind: Done}
		}
		*c = pl.pending[n-1]
		pl.pending = pl.pending[:n-1]
	}
	if now.Before(pl.notBefore) {
		return Action{Kind: Wait, Delay: pl.notBefore.Sub(now)}
	}
	if age := pl.policy.MaximumRecordAge; age > 0 {
		k := c.lo
		for k < c.hi {
			t := pl.records[k].Kinesis.ApproximateArrivalTimestamp.Time
			if t.IsZero() || now.Sub(t) <= age {
				break
			}
			k++
		}
		if k > c.lo {
			a := pl.discardAction(k, RecordAgeExceeded, &GiveUpError{Reason: ErrRecordExpired, Last: c.last})
			c.lo = k
			pl.finished = k
			return a
		}
	}
	pl.inflight = true
	return pl.invoke()
}

func (pl *Plan) invoke() Action {
	return Action{Kind: Invoke, Lo: pl.cur.lo, Hi: pl.cur.hi, Attempt: pl.cur.attempts}
}

// discardAction describes discarding records[cur.lo:hi].
func (pl *Plan) discardAction(hi int, cond Condition, err error) Action {
	c := &pl.cur
	return Action{Kind: Discard, Lo: c.lo, Hi: hi, Attempt: c.attempts,
		Condition: cond, InvokeCount: c.invokes, Err: err}
}

// Report records the outcome of the invocation that Next returned, which
// ended at time now. It panics if no Invoke is outstanding.
//
// A success finishes the range. A throttle retries it after
// ThrottleBackoff. Any other failure waits RetryBackoff, then:
//
//   - a partial failure (ReportBatchItemFailures on, every identifier an
//     invoked record's sequence number) finishes the records before the
//     lowest failed one and retries the rest as one range, or discards the
//     rest if attempts are exhausted; bisect does not halve it;
//   - a [Permanent] error discards the range;
//   - a function error or an invalid partial response splits the range into
//     [lo, lo+⌈n/2⌉) and the rest under BisectBatchOnFunctionError when it
//     has more than one record; the halves are processed in order and the
//     split consumes no attempt; otherwise the range is discarded if attempts
//     are exhausted and retried if not.
//
// Attempts are exhausted when MaximumRetryAttempts is not -1 and this many
// retries of the range have been made.
func (pl *Plan) Report(now time.Time, o Outcome) {
	if !pl.inflight {
		panic("retry: Report called without an outstanding Invoke")
	}
	pl.inflight = false
	c := &pl.cur
	if o.kind == throttled {
		pl.throttles++
		c.last = o.err
		pl.notBefore = now.Add(pl.policy.ThrottleBackoff.delay(defaultThrottleBackoff, pl.throttles, pl.rand()))
		return
	}
	pl.throttles = 0
	c.invokes++
	cut, err := pl.classify(o)
	if err == nil {
		pl.fails = 0
		pl.notBefore = time.Time{}
		c.lo = c.hi
		pl.finished = c.hi
		return
	}
	pl.fails++
	pl.notBefore = now.Add(pl.policy.RetryBackoff.delay(defaultRetryBackoff, pl.fails, pl.rand()))
	c.last = err
	switch {
	case cut >= 0: // a partial failure: cut at the lowest failed record
		c.lo = cut
		pl.finished = cut
		if pl.exhausted() {
			pl.giveUp(err)
		} else {
			c.attempts++
		}
	case IsPermanent(err):
		pl.giveUp(err)
	case pl.policy.BisectBatchOnFunctionError && c.hi-c.lo > 1:
		mid := c.lo + (c.hi-c.lo+1)/2
		right := *c
		right.lo = mid
		c.hi = mid
		if !pl.policy.KeepAttemptsOnSplit {
			c.attempts, right.attempts = 0, 0
		}
		pl.pending = append(pl.pending, right)
	case pl.exhausted():
		pl.giveUp(err)
	default:
		c.attempts++
	}
}

// classify returns a nil error for a success, the index of the lowest failed
// record and an error for a valid partial failure, and -1 and an error for a
// failure of the whole range.
func (pl *Plan) classify(o Outcome) (cut int, err error) {
	c := &pl.cur
	failures := o.failures
	switch o.kind {
	case succeeded, throttled: // Report handles throttles
	case failed:
		return -1, o.err
	case responded, respondedRaw:
		if !pl.policy.ReportBatchItemFailures {
			return c.hi, nil
		}
		if o.kind == respondedRaw {
			resp, err := ParseResponse(o.payload)
			if err != nil {
				return -1, err
			}
			failures = resp.BatchItemFailures
		}
	}
	if len(failures) == 0 {
		return c.hi, nil
	}
	cut = c.hi
	for i := range failures {
		id := failures[i].ItemIdentifier
		if id == "" {
			return -1, fmt.Errorf("%w: item %d: itemIdentifier is empty", ErrInvalidResponse, i)
		}
		k := pl.index(id)
		if k < 0 {
			return -1, fmt.Errorf("%w: item %d: itemIdentifier %q is not an invoked record", ErrInvalidResponse, i, id)
		}
		cut = min(cut, k)
	}
	return cut, fmt.Errorf("%w: sequence number %s", ErrBatchItemFailure, pl.records[cut].Kinesis.SequenceNumber)
}

// index returns the index of the record with sequence number seq in the
// current range, or -1. Sequence numbers are decimal strings without leading
// zeros, so a shorter one is smaller; the binary search relies on order, and
// the linear scan behind it keeps an unordered batch correct, if slower.
func (pl *Plan) index(seq string) int {
	recs := pl.records[pl.cur.lo:pl.cur.hi]
	k, found := slices.BinarySearchFunc(recs, seq, func(r events.KinesisEventRecord, seq string) int {
		s := r.Kinesis.SequenceNumber
		if len(s) != len(seq) {
			return len(s) - len(seq)
		}
		switch {
		case s < seq:
			return -1
		case s > seq:
			return 1
		}
		return 0
	})
	if !found {
		k = slices.IndexFunc(recs, func(r events.KinesisEventRecord) bool { return r.Kinesis.SequenceNumber == seq })
		if k < 0 {
			return -1
		}
	}
	return pl.cur.lo + k
}

func (pl *Plan) exhausted() bool {
	m := pl.policy.MaximumRetryAttempts
	return m >= 0 && pl.cur.attempts >= m
}

// giveUp discards the current range at the next call to Next.
func (pl *Plan) giveUp(last error) {
	pl.discard = pl.discardAction(pl.cur.hi, RetryAttemptsExhausted, &GiveUpError{Reason: ErrRetriesExhausted, Last: last})
	pl.cur.lo = pl.cur.hi
}

func (pl *Plan) rand() uint64 {
	if pl.src == nil {
		return rand.Uint64()
	}
	return pl.src.Uint64()
}
