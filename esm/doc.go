// Package esm runs a Kinesis handler with Lambda event source mapping
// semantics.
//
// A [Mapping] reads every shard of a Kinesis data stream, groups records
// into batches exactly as Lambda does (BatchSize, MaximumBatchingWindow and
// the 6 MB invoke payload), calls a [Handler] with the same
// events.KinesisEvent a Lambda function receives, and checkpoints each
// shard's position in a checkpoint.Store.
//
// # Ordering and delivery
//
// Within a shard, records are delivered in sequence order, one batch at a
// time: batch k+1 is not invoked before batch k has succeeded. A child shard
// created by a split or merge is read only after every parent has been read
// to its end and that end is checkpointed, so the records of a partition key
// stay in order across resharding. Delivery is at least once: a batch that
// has not succeeded when the mapping stops is delivered again from the
// checkpoint by the next Run.
//
// # Failures
//
// A batch whose invocation returns an error or panics is retried, after a
// jittered backoff ([RetryBackoff]), until it succeeds; the shard waits
// meanwhile and nothing is skipped. This is Lambda's behaviour with the
// default MaximumRetryAttempts and MaximumRecordAgeInSeconds of -1.
//
// Kinesis throttling, expired iterators and service errors are retried by
// the reader itself, which re-reads the same position; they never count
// against a batch.
//
// # Payload size
//
// A batch is closed before the next record would make the invocation
// payload (the JSON of the events.KinesisEvent) larger than 6,291,456
// bytes. The size is computed arithmetically, exactly as json.Marshal
// would produce it. A single record whose event alone is larger than that
// (possible with Kinesis records above 4.5 MiB) is delivered alone in its own
// batch, since an in-process handler has no payload limit.
package esm
