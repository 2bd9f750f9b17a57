package retry

import (
	"errors"
	"fmt"
	"math/bits"
	"time"
)

// Lambda's ranges for the settings in a [Policy].
const (
	maxRetryAttempts = 10000
	minRecordAge     = 60 * time.Second
	maxRecordAge     = 604800 * time.Second
)

// ErrInvalidPolicy is wrapped by the errors of [Policy.Validate].
var ErrInvalidPolicy = errors.New("retry: invalid policy")

// Default backoffs. Lambda documents no retry pacing for streams (spec §7).
// Function errors are retried soon, because a bad record is usually isolated
// by the next attempt or split; throttles and invoke errors mean the function
// cannot take more load, so they back off further.
var (
	defaultRetryBackoff    = Backoff{Initial: 100 * time.Millisecond, Max: 5 * time.Second}
	defaultThrottleBackoff = Backoff{Initial: time.Second, Max: 30 * time.Second}
)

// Policy says what happens after a failed invocation. It is plain data: a
// Policy may be copied and shared by any number of goroutines.
//
// The zero Policy is valid and means: no retries (a failed range is
// discarded after its first invocation), no age limit, no bisect, partial batch responses ignored, and the default
// backoffs. Lambda's defaults are [DefaultPolicy], which differs from the zero
// Policy in MaximumRetryAttempts (-1, unlimited, against 0).
type Policy struct {
	// MaximumRetryAttempts is how many times a failed range is retried after
	// its first invocation before its records are discarded with
	// [RetryAttemptsExhausted]. -1 is unlimited (Lambda's default), 0 is no
	// retries; Lambda allows -1 to 10,000. Function errors, invalid partial
	// responses and partial failures consume attempts; throttles and splits
	// do not.
	MaximumRetryAttempts int

	// MaximumRecordAge discards records older than this (now minus
	// ApproximateArrivalTimestamp) with [RecordAgeExceeded] instead of
	// invoking them. Lambda's MaximumRecordAgeInSeconds: -1 (unlimited, the
	// default) or 60 s to 604,800 s. Here any value ≤ 0 is unlimited, so the
	// zero Policy has no age limit; values between 0 and 60 s are invalid, as
	// in Lambda, where 0 to 59 is rejected.
	MaximumRecordAge time.Duration

	// BisectBatchOnFunctionError splits a range that failed with a function
	// error or an invalid partial response into two halves, retried
	// separately and in order. Splitting does not consume attempts. Lambda's
	// BisectBatchOnFunctionError, default false.
	BisectBatchOnFunctionError bool

	// ReportBatchItemFailures honours partial batch responses: the records
	// before the lowest reported failure are finished and the rest is
	// retried. When false, responses are ignored and an invocation without an
	// error is a success. Lambda's FunctionResponseTypes
	// ["ReportBatchItemFailures"], default off.
	ReportBatchItemFailures bool

	// KeepAttemptsOnSplit makes both halves of a split range inherit the
	// attempts already made on it. When false (the default, spec §9.2) each
	// half starts with no attempts, so a record is split down to a single
	// record before MaximumRetryAttempts is counted against it. Lambda does
	// not document which it does.
	KeepAttemptsOnSplit bool

	// RetryBackoff paces invocations after a failed one (function error,
	// invalid or partial response). The zero Backoff is the default, 100 ms
	// doubling up to 5 s.
	RetryBackoff Backoff

	// ThrottleBackoff paces invocations after a throttled one. The zero
	// Backoff is the default, 1 s doubling up to 30 s.
	ThrottleBackoff Backoff
}

// DefaultPolicy returns Lambda's defaults for a Kinesis mapping: unlimited
// retries and record age, no bisect, no partial batch responses, and the
// default backoffs written out.
func DefaultPolicy() Policy {
	return Policy{
		MaximumRetryAttempts: -1,
		MaximumRecordAge:     -1,
		RetryBackoff:         defaultRetryBackoff,
		ThrottleBackoff:      defaultThrottleBackoff,
	}
}

// Validate reports whether p is within Lambda's ranges, naming the first bad
// field, its value and the range.
func (p Policy) Validate() error {
	switch {
	case p.MaximumRetryAttempts < -1 || p.MaximumRetryAttempts > maxRetryAttempts:
		return fmt.Errorf("%w: MaximumRetryAttempts %d not in [-1, %d]",
			ErrInvalidPolicy, p.MaximumRetryAttempts, maxRetryAttempts)
	case p.MaximumRecordAge > 0 && (p.MaximumRecordAge < minRecordAge || p.MaximumRecordAge > maxRecordAge):
		return fmt.Errorf("%w: MaximumRecordAge %v not ≤ 0 (unlimited) or in [60s, 604800s]",
			ErrInvalidPolicy, p.MaximumRecordAge)
	}
	if err := p.RetryBackoff.validate("RetryBackoff"); err != nil {
		return err
	}
	return p.ThrottleBackoff.validate("ThrottleBackoff")
}

// Backoff bounds the wait before an invocation that follows failed ones. The
// k-th consecutive failure waits a time drawn uniformly from [d/2, d], where d
// is Initial doubled k-1 times and capped at Max: the jitter spreads shards
// that fail together, while the wait still grows. The zero Backoff stands for
// the default of the [Policy] field that holds it; otherwise
// 0 < Initial ≤ Max.
type Backoff struct {
	Initial time.Duration
	Max     time.Duration
}

func (b Backoff) validate(field string) error {
	if b == (Backoff{}) || (b.Initial > 0 && b.Initial <= b.Max) {
		return nil
	}
	return fmt.Errorf("%w: %s {Initial:%v Max:%v} needs 0 < Initial ≤ Max, or both 0 for the default",
		ErrInvalidPolicy, field, b.Initial, b.Max)
}

// delay returns the wait after the k-th (k ≥ 1) consecutive failure, with u a
// uniformly random 64-bit number. An invalid b is repaired rather than
// rejected: a non-positive Initial takes def's, and Max is at least Initial.
func (b Backoff) delay(def Backoff, k int, u uint64) time.Duration {
	if b.Initial <= 0 {
		b = def
	}
	b.Max = max(b.Max, b.Initial)
	d := b.Initial
	for i := 1; i < k && d < b.Max; i++ {
		if d > b.Max/2 {
			d = b.Max
			break
		}
		d *= 2
	}
	d = min(d, b.Max)
	half := d / 2
	// The high word of u·n is uniform in [0, n) up to a bias of n/2⁶⁴.
	j, _ := bits.Mul64(u, uint64(d-half)+1)
	return half + time.Duration(j)
}
