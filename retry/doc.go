// Package retry decides retry, bisect or discard for a failed batch; no I/O.
//
// It implements the failure handling of AWS Lambda's event source mapping for
// Kinesis: MaximumRetryAttempts, MaximumRecordAgeInSeconds,
// BisectBatchOnFunctionError and ReportBatchItemFailures (FunctionResponseTypes),
// following the recommended algorithm of the behavioural specification (§9.2).
// It imports nothing from esmkit, starts no goroutines and reads no clock.
//
// # Driving a plan
//
// A [Policy] is plain data. For each batch, the shard or lane that owns it
// makes a [Plan] with [NewPlan] and loops: [Plan.Next] returns an [Action]
// (Invoke a range, Wait, Discard a range, or Done); after an Invoke the caller
// calls the function and passes what came of it to [Plan.Report] as an
// [Outcome]. [Plan.Finished] is the number of leading records that are
// finished, which the caller checkpoints. The caller passes the time to each
// call, so tests can drive a Plan with any clock.
//
// # Outcomes
//
// [Result] classifies a Go handler's return: an error is a function error,
// whatever the response says; otherwise the response is a partial batch
// response, used only under ReportBatchItemFailures. [RawResult] does the same
// for a remote function's JSON payload, which [ParseResponse] parses.
// [Throttled] marks an invocation that never reached the function. A handler
// returns [Permanent](err) to have its records discarded without more
// retries.
//
// # Decisions
//
//   - Before each invocation, the records at the start of the range that are
//     older than MaximumRecordAge are discarded (RecordAgeExceeded).
//   - A function error or an invalid partial response fails the whole range:
//     with bisect it is halved (splits are free), else it is retried until
//     MaximumRetryAttempts retries have failed, then discarded
//     (RetryAttemptsExhausted).
//   - A valid partial response finishes the records before the lowest failed
//     one and retries the rest, counting an attempt.
//   - A throttle is retried with its own backoff and counts nothing.
//   - Halves are processed strictly in order, so records are finished, and
//     checkpointed, in sequence order.
//
// # Pacing
//
// Lambda documents no retry intervals for streams. After a failed invocation
// the next one waits [Policy.RetryBackoff] (default 100 ms doubling to 5 s
// over consecutive failures, jittered), after a throttle
// [Policy.ThrottleBackoff] (default 1 s doubling to 30 s). A success resets
// both; an invocation that reaches the function resets the throttle count.
// A split or discard does not reset them: a function that fails for
// every record slows down rather than bisecting at full speed.
package retry
