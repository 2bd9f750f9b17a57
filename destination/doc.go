// Package destination delivers records of discarded batches to on-failure destinations.
//
// When a mapping gives up on a batch — retries exhausted, records too old —
// Lambda sends an invocation record describing it to the mapping's
// on-failure destination and moves on. A [Destination] does the same for
// esmkit: [Destination.Send] takes an [Invocation] and delivers Lambda's
// document through a driver:
//
//	destination/sqsdestination   SendMessage to a standard SQS queue
//	destination/snsdestination   Publish to a standard SNS topic
//	destination/s3destination    PutObject into an S3 bucket
//	Func                         a Go function, for tests and programs without AWS
//
// The Destination is portable: it owns the policy below, and a driver (see
// destination/driver) owns only I/O. destination/destinationtest is the
// conformance suite every driver passes.
//
//	q, err := sqsdestination.New(sqs.NewFromConfig(cfg), queueURL)
//	…
//	dst, err := destination.New(q, destination.MaxAttempts(3))
//	…
//	err = dst.Send(ctx, &destination.Invocation{Condition: destination.RetryAttemptsExhausted, …})
//
// # Documents
//
// SQS and SNS get the invocation record of [MarshalRecord]: requestContext,
// responseContext, version "1.0", timestamp and KinesisBatchInfo, with no
// record data; consumers re-read the records from the stream, starting at
// StartSequenceNumber, before they expire. S3 gets the record of
// [MarshalObject], which adds "payload": the discarded records as a Kinesis
// event, in a JSON string. Its object key is
//
//	aws/lambda/<mapping UUID>/<shard ID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<random UUID>
//
// Field names, nesting and order follow AWS's examples exactly (golden files
// in testdata check them byte for byte); times are ISO-8601 in UTC with
// milliseconds. [Unmarshal] parses either document, for consumers of a
// destination.
//
// # Errors and retries
//
// Send validates the Invocation first (errors wrap [ErrInvalidInvocation]).
// Transient driver errors — throttling, 5xx responses, dropped connections —
// are retried up to [MaxAttempts] attempts in all (5 by default) with a
// jittered exponential backoff from 100 ms to 2 s that honours the context.
// Driver errors are then returned wrapped once, as
// "destination: send: <driver error>", for use with errors.Is and errors.As.
// When the context is done, its error is returned unwrapped. A FIFO queue or
// topic, which Lambda does not support as a destination, fails at Send with
// the service's error.
//
// A failed Send means the record was not delivered: like Lambda (which
// counts DestinationDeliveryFailures and DroppedEventCount), the caller
// drops the batch and goes on. Delivery is at least once: a retry after a
// lost response may deliver a record twice to a queue or topic.
//
// # Concurrency
//
// All methods of a Destination are safe for concurrent use; Sends proceed
// in parallel. Close waits for Sends in progress and closes the driver.
package destination
