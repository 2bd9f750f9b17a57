package retry

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

var (
	// ErrRetriesExhausted is the reason of a [GiveUpError] for records
	// discarded with [RetryAttemptsExhausted].
	ErrRetriesExhausted = errors.New("retry: retry attempts exhausted")
	// ErrRecordExpired is the reason of a [GiveUpError] for records
	// discarded with [RecordAgeExceeded].
	ErrRecordExpired = errors.New("retry: record age exceeded")
	// ErrInvalidResponse is wrapped by the error for a partial batch response
	// that fails the whole invoked range: one that is not JSON, not an
	// object, or has an item whose itemIdentifier is missing, null, empty or
	// not the sequence number of an invoked record.
	ErrInvalidResponse = errors.New("retry: invalid partial batch response")
	// ErrBatchItemFailure is wrapped by the error for a valid partial batch
	// response that reported a failed record; the message names the lowest.
	ErrBatchItemFailure = errors.New("retry: batch item failure")
)

type outcomeKind uint8

const (
	succeeded    outcomeKind = iota
	responded                // a response, failures holds its items
	respondedRaw             // a response, payload holds its JSON
	failed                   // a function error
	throttled                // never reached the function
)

// Outcome is what came of one invocation, for [Plan.Report]. Build it with
// [Result], [RawResult] or [Throttled]. The zero Outcome is a success.
//
// An Outcome holds the response it was built from without copying it; the
// caller must not change the response until Report returns.
type Outcome struct {
	kind     outcomeKind
	err      error
	failures []events.KinesisBatchItemFailure
	payload  []byte
}

// Result is the outcome of a Go handler that returned resp and err. A non-nil
// err (a returned error, a recovered panic, a timeout) is a function error and
// resp is ignored, even if it lists failures; wrap err with [Permanent] to
// discard the range at once. Otherwise resp is a partial batch response,
// honoured only under [Policy.ReportBatchItemFailures].
func Result(resp events.KinesisEventResponse, err error) Outcome {
	if err != nil {
		return Outcome{kind: failed, err: err}
	}
	return Outcome{kind: responded, failures: resp.BatchItemFailures}
}

// RawResult is like [Result] for a function that returned the JSON payload,
// such as a remote Lambda function called through the Invoke API: err is the
// function error (X-Amz-Function-Error), and the payload is parsed by
// [ParseResponse] only if the policy honours partial batch responses.
func RawResult(payload []byte, err error) Outcome {
	if err != nil {
		return Outcome{kind: failed, err: err}
	}
	return Outcome{kind: respondedRaw, payload: payload}
}

// Throttled is the outcome of an invocation that did not reach the function:
// it was throttled (429, TooManyRequestsException, reserved concurrency 0),
// or failed in the service or in the call (5xx, permission denied, function
// deleted). The range is retried with [Policy.ThrottleBackoff]; it is never
// split, consumes no attempt and is not counted in InvokeCount, so only
// MaximumRecordAge ends it. err is kept as the last error and may be nil.
func Throttled(err error) Outcome {
	return Outcome{kind: throttled, err: err}
}

// Permanent marks err as final: a function error for which retrying cannot
// help. [Plan.Report] discards the invoked range at once, with
// [RetryAttemptsExhausted], without retrying or splitting it; a handler that
// wants the bad records isolated returns a partial batch response instead.
// Permanent(nil) is nil. The returned error unwraps to err.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

// IsPermanent reports whether err or any error it wraps came from
// [Permanent].
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// ParseResponse parses a function's response payload as a Kinesis partial
// batch response. A success has no items: null, {}, an object without a
// batchItemFailures key, {"batchItemFailures":null} and
// {"batchItemFailures":[]}. A failure lists items
// {"itemIdentifier":"<sequence number>"}; other keys in an item are ignored.
// Anything else is an error wrapping [ErrInvalidResponse], which fails the
// whole invoked range: invalid JSON, JSON that is not an object, an item
// that is not an object or whose itemIdentifier is missing (a bad key such as
// "itemId"), null, empty or not a string. Keys match exactly, and a top-level
// key that differs from batchItemFailures only in case is an error rather than
// silently ignored.
//
// ParseResponse does not know the batch: [Plan.Report] checks that each
// identifier is an invoked record's sequence number.
func ParseResponse(payload []byte) (events.KinesisEventResponse, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(payload, &top); err != nil {
		return events.KinesisEventResponse{}, fmt.Errorf("%w: not a JSON object: %w", ErrInvalidResponse, err)
	}
	const key = "batchItemFailures"
	for k := range top {
		if k != key && strings.EqualFold(k, key) {
			return events.KinesisEventResponse{}, fmt.Errorf("%w: key %q, want %q", ErrInvalidResponse, k, key)
		}
	}
	list, ok := top[key]
	if !ok {
		return events.KinesisEventResponse{}, nil
	}
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(list, &items); err != nil {
		return events.KinesisEventResponse{}, fmt.Errorf("%w: %s is not a list of objects: %w", ErrInvalidResponse, key, err)
	}
	if items == nil {
		return events.KinesisEventResponse{}, nil
	}
	resp := events.KinesisEventResponse{BatchItemFailures: make([]events.KinesisBatchItemFailure, len(items))}
	for i, item := range items {
		if item == nil {
			return events.KinesisEventResponse{}, fmt.Errorf("%w: item %d is null", ErrInvalidResponse, i)
		}
		raw, ok := item["itemIdentifier"]
		if !ok {
			return events.KinesisEventResponse{}, fmt.Errorf("%w: item %d has no itemIdentifier", ErrInvalidResponse, i)
		}
		var id *string
		if err := json.Unmarshal(raw, &id); err != nil {
			return events.KinesisEventResponse{}, fmt.Errorf("%w: item %d: itemIdentifier is not a string: %w", ErrInvalidResponse, i, err)
		}
		if id == nil || *id == "" {
			return events.KinesisEventResponse{}, fmt.Errorf("%w: item %d: itemIdentifier is null or empty", ErrInvalidResponse, i)
		}
		resp.BatchItemFailures[i].ItemIdentifier = *id
	}
	return resp, nil
}
