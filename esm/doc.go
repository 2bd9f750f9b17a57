// Package esm runs a Kinesis handler with Lambda event source mapping
// semantics.
//
// A [Mapping] reads every shard of a Kinesis data stream, groups records
// into batches exactly as Lambda does (BatchSize, MaximumBatchingWindow and
// the 6 MB invoke payload), calls a [Handler] with the same
// events.KinesisEvent a Lambda function receives, and checkpoints each
// shard's position in a checkpoint.Store. [NewWindowed] does the same for
// tumbling windows, with a window.Handler.
//
// # Ordering and delivery
//
// Within a shard, records are delivered in sequence order, one batch at a
// time: batch k+1 is not invoked before batch k is finished. With
// [ParallelizationFactor] n > 1, records go to n lanes by their partition
// key and each lane runs one batch at a time, so each key keeps its order.
// A child shard created by a split or merge is read only after every parent
// has been read to its end and that end is checkpointed. Delivery is at
// least once: the checkpoint never passes a record that is not finished, and
// the next Run resumes after it.
//
// # Failures
//
// What follows a failed invocation is Lambda's policy, implemented by
// package retry: [MaximumRetryAttempts], [MaximumRecordAge],
// [BisectBatchOnFunctionError] and partial batch responses
// ([FunctionResponseTypes]). With the defaults a failing batch is retried
// until it succeeds and its shard (or lane) waits. Records given up are
// reported to the [OnFailure] destination with Lambda's invocation record.
// A handler that panics has made a function error ([HandlerPanicError]); one
// that returns a [*ThrottleError] is retried without using up attempts.
//
// Kinesis throttling, expired iterators and service errors are retried by
// the reader itself, which re-reads the same position; they never count
// against a batch.
//
// # Payload size
//
// A batch is closed before the next record would make the invocation
// payload (the JSON of the events.KinesisEvent) reach 6,291,456 bytes:
// Lambda's synchronous invoke requests "must be smaller than 6291456
// bytes", so the largest batch is 6,291,455. The size is computed arithmetically, exactly as json.Marshal
// would produce it. A single record whose event alone is larger than that
// (possible with Kinesis records above 4.5 MiB) is delivered alone in its own
// batch, since an in-process handler has no payload limit.
//
// # Event memory
//
// esmkit never writes a batch's records once it has handed them to the
// handler (a retry hands over the same records again), and a handler may
// keep them. With a *kinesis.Client, GetRecords responses are decoded by
// package kinesisfast unless [FastDecode] is false: neighbouring records
// then share memory, so a kept record keeps its 32 KiB block of Data and
// its page's strings alive, not just its own bytes. Copy what you keep for
// long.
//
// # Lifecycle
//
// Run blocks until its context ends. Meanwhile [Mapping.Disable],
// [Mapping.Enable] and [Mapping.Update] pause, resume and reconfigure the
// mapping, [Mapping.State] and [Mapping.Shards] report on it, and [Hooks]
// observe every invocation, poll, discard and checkpoint.
package esm
