// Package otelesm exports esmkit mapping metrics to OpenTelemetry.
//
// A *Hook records what an esm.Mapping does on instruments of an
// OpenTelemetry MeterProvider. Pass it to the mapping as a hook:
//
//	h, err := otelesm.New(provider, otelesm.MappingName("orders"))
//	...
//	m, err := esm.New(client, streamARN, handler, esm.Hooks(h))
//
// The package lives in its own module so that the esm library does not
// depend on OpenTelemetry.
//
// # Metrics
//
// Names are Lambda's CloudWatch metric names with the prefix "esm.", so a
// dashboard reads the same as Lambda's. The prefix is esm rather than
// aws.lambda because the numbers come from this process, not from AWS.
// Counts are of the same events, by the same rules, as esm.Stats and
// Lambda's EventCount metrics (duplicates included, as at-least-once
// delivery implies), counted from the Hook's New.
//
//   - esm.PolledEventCount, counter, {event}: records read from the stream.
//   - esm.FilteredOutEventCount, counter, {event}: records that matched no
//     FilterCriteria pattern (0 is added for a page whose records all
//     matched, as Lambda emits 0).
//   - esm.InvokedEventCount, counter, {event}: records handed to the
//     function, counted again on every retry; throttled calls do not count.
//   - esm.FailedInvokeEventCount, counter, {event}: records of invocations
//     that returned a function error (or panicked) or a non-empty
//     batchItemFailures.
//   - esm.DroppedEventCount, counter, {event}: records discarded by
//     MaximumRetryAttempts or MaximumRecordAge that did not reach the
//     on-failure destination, including those whose delivery failed.
//   - esm.OnFailureDestinationDeliveredEventCount, counter, {event}:
//     discarded records whose on-failure record was delivered.
//   - esm.DestinationDeliveryFailures, counter, {delivery}: on-failure
//     records that could not be delivered (one per discarded range).
//   - esm.Invocations, counter, {invocation}: calls that reached the
//     function, failed ones included.
//   - esm.Errors, counter, {invocation}: invocations with a function error.
//   - esm.Throttles, counter, {invocation}: calls that returned an
//     *esm.ThrottleError; they are neither Invocations nor Errors.
//   - esm.CheckpointWrites, counter, {write}: checkpoint writes, failed ones
//     included; esm.CheckpointWriteFailures, counter, {write}: failed ones.
//   - esm.Duration, float histogram, s: how long each invocation ran.
//   - esm.BatchSize, histogram, {event}: records per invocation.
//   - esm.IteratorAge, histogram, ms: from the arrival in the stream of an
//     invocation's last record to the start of the invocation.
//   - esm.MillisBehindLatest, gauge, ms: what the last non-empty read of
//     each shard reported. esm reports no empty read to hooks, so a shard
//     that has caught up and gone quiet keeps its last value.
//   - esm.State, observable gauge, 1: 1 for the mapping's current state and
//     0 for each other state.
//
// Durations follow OpenTelemetry's convention (seconds, like
// faas.invoke_duration); IteratorAge and MillisBehindLatest keep the
// milliseconds of Lambda and Kinesis so they compare directly with
// CloudWatch. Throttled calls never reached the function, so they add to
// esm.Throttles only, not to the histograms. The histograms have explicit
// bucket boundaries fitted to their ranges (up to Lambda's 900 s timeout,
// BatchSize's 10,000 and a 7-day retention); an SDK View can replace them.
//
// # Attributes
//
// Every measurement carries the attributes of [Attributes] and
// [MappingName] ("esm.mapping.name"), and, unless ShardAttribute(false),
// the shard ("esm.shard.id"). The discard counters (DroppedEventCount,
// OnFailureDestinationDeliveredEventCount, DestinationDeliveryFailures)
// add the condition ("esm.discard.condition": RetryAttemptsExhausted or
// RecordAgeExceeded), and esm.State the state ("esm.state": Lambda's state
// names). A stream with many shards over its life makes many series; turn
// the shard attribute off to bound them. Without it, esm.MillisBehindLatest
// holds the value of the last page read from any shard.
//
// # Cost
//
// Hooks run on the mapping's hot paths. Instruments are created by New and
// attribute sets once per shard, so a hook call allocates nothing beyond
// what the OpenTelemetry SDK does (the SDK's synchronous instruments
// allocate nothing either once a series exists).
//
// # Several mappings
//
// A Hook may serve several mappings, whose counts then add up in the same
// series (shard IDs repeat from stream to stream). esm.State, though,
// reports whichever mapping changed state last, so give each mapping its
// own Hook with its own MappingName.
package otelesm
