package esm

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/aws/aws-lambda-go/events"
)

// Handler processes one batch of records from one shard, as a Lambda
// function does. It returns the partial batch response that Lambda functions
// return; an error marks the whole batch failed. A Handler may be called
// concurrently for different shards, never for the same shard at once.
//
// The context carries the function timeout when [FunctionTimeout] is set, and
// is not cancelled when Run's context is: a batch that has started gets the
// drain time ([ShutdownTimeout]) to finish.
type Handler func(context.Context, events.KinesisEvent) (events.KinesisEventResponse, error)

// ErrorHandler adapts a handler that only returns an error, the most common
// Lambda signature, to a [Handler].
func ErrorHandler(f func(context.Context, events.KinesisEvent) error) Handler {
	return func(ctx context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
		return events.KinesisEventResponse{}, f(ctx, ev)
	}
}

// HandlerPanicError is returned in place of a handler's result when the
// handler panics. It counts as a function error, as a crash of a Lambda
// function does.
type HandlerPanicError struct {
	Value any    // the value passed to panic
	Stack []byte // the stack of the panicking goroutine
}

func (e *HandlerPanicError) Error() string {
	return fmt.Sprintf("esm: handler panic: %v", e.Value)
}

// Unwrap returns the panic value if it is an error.
func (e *HandlerPanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// call runs h, turning a panic into a *HandlerPanicError. This is the only
// place esmkit recovers panics: a panic anywhere else is a bug in esmkit and
// must crash rather than lose records silently.
func call(ctx context.Context, h Handler, ev events.KinesisEvent) (resp events.KinesisEventResponse, err error) {
	defer func() {
		if v := recover(); v != nil {
			resp, err = events.KinesisEventResponse{}, &HandlerPanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return h(ctx, ev)
}

// ThrottleError marks a handler error as a throttle: the batch never reached
// the function (Lambda's TooManyRequestsException, reserved concurrency 0,
// or any other refusal before the function ran). An on-failure record of a
// throttled batch carries the HTTP status found in Err's chain, or 429.
// A throttled batch is retried with the throttle backoff, is never bisected
// and does not use up MaximumRetryAttempts; only MaximumRecordAge ends it.
type ThrottleError struct {
	Err error
}

func (e *ThrottleError) Error() string { return "esm: throttled: " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *ThrottleError) Unwrap() error { return e.Err }

// statusCode is the HTTP status that refused the invocation, for on-failure
// records: that of the first error in Err's chain with an HTTPStatusCode
// method of 400 or more (the SDK's response errors have one), else 429.
func (e *ThrottleError) statusCode() int {
	var hs interface{ HTTPStatusCode() int }
	if errors.As(e.Err, &hs) && hs.HTTPStatusCode() >= 400 {
		return hs.HTTPStatusCode()
	}
	return 429
}
