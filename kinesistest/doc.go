// Package kinesistest provides an in-memory Kinesis for tests, with fault
// injection.
//
// A [Client] is a service, not a mock: like net/http/httptest's server or
// franz-go's kfake, it implements Kinesis's behaviour — hash-key routing,
// sequence numbers, iterators that expire, resharding — so code under test
// runs against it exactly as against a real *kinesis.Client. Its SDK-shaped
// methods have the signatures of *kinesis.Client's:
//
//	CreateStream  DeleteStream  DescribeStream  DescribeStreamSummary
//	ListShards  PutRecord  PutRecords  GetShardIterator  GetRecords
//	SplitShard  MergeShards  UpdateMaxRecordSize
//
// These names are also the operation names that [Client.Inject] and
// [Client.Calls] take.
//
// # Streams and records
//
// Streams are ACTIVE as soon as they are created and keep every record for
// as long as the Client lives (there is no retention period). A stream is
// addressed by StreamName or by StreamARN,
// arn:aws:kinesis:<region>:<account>:stream/<name>, with region us-east-1
// and account 123456789012 unless the [Region] and [AccountID] options say
// otherwise. StreamId is ignored.
//
// A record goes to the open shard whose hash key range holds the MD5 hash
// of its partition key, read as a big-endian unsigned 128-bit integer (or
// its ExplicitHashKey). Sequence numbers are 56-digit decimal strings that
// strictly increase within a shard and across the stream, so a child
// shard's numbers exceed its parents'. Arrival times come from the [Clock]
// option, truncated to milliseconds, and never decrease within a stream.
//
// The limits are Kinesis's: partition keys of 1–256 characters, records of
// at most 1 MiB of data plus key (raise it with CreateStream's
// MaxRecordSizeInKiB or UpdateMaxRecordSize), 500 records per PutRecords,
// 10,000 records and 10 MiB per GetRecords, iterators that expire five
// minutes after issue. [ShardReadRate] optionally enforces the read limit
// of five GetRecords calls per shard per second.
//
// # Errors
//
// Errors are the SDK's own types from
// github.com/aws/aws-sdk-go-v2/service/kinesis/types, with messages like
// AWS's, wrapped as the SDK wraps them: a *smithy.OperationError holding an
// *awshttp.ResponseError (HTTP status 400, or 500 for server faults) that
// holds the exception. Classify them with errors.As:
//
//	var expired *types.ExpiredIteratorException
//	if errors.As(err, &expired) { … }
//
// A done context fails a call before it does anything, with an error for
// which errors.Is(err, ctx.Err()) holds.
//
// # Fault injection
//
// [Client.Inject] makes chosen calls of one operation fail with a given
// error: every nth call ([Every]), the next n calls ([FirstN]), or calls
// drawn with a probability from a seeded generator ([Probability]), which
// keeps failures reproducible. [Throttling], [LimitExceeded],
// [ExpiredIterator] and [InternalFailure] make the usual errors; the last
// looks exactly like the SDK's error for an HTTP 500. [Client.ExpireIterators]
// expires every iterator issued so far, and [Client.Calls] counts calls
// per operation so tests can assert polling rates.
//
//	c := kinesistest.New()
//	c.Inject("GetRecords", kinesistest.Every(3), kinesistest.Throttling())
//	c.Inject("ListShards", kinesistest.FirstN(1), kinesistest.InternalFailure())
//	c.Inject("GetRecords", kinesistest.Probability(0.1, 42), kinesistest.ExpiredIterator())
//
// # Time
//
// Everything that depends on time reads the [Clock] option, time.Now by
// default. Tests pass a function returning a time they advance, and so
// test iterator expiry or MillisBehindLatest without sleeping.
//
// # Test helpers
//
// [Client.AddStream], [Client.Put] and [Client.Records] create a stream,
// write a record and list a shard's records in one line each. They are not
// counted by Calls, injected faults do not apply to them, and their errors
// are the bare exception types.
//
// # Performance
//
// Records are stored as pre-built types.Record values, so GetRecords
// copies a slice of them (one allocation however many records) and never
// copies Data, which is copied once on put. Treat the records and outputs
// you get as read-only: they share memory with the Client. Puts to one
// stream are serialized, reads of a shard run in parallel with each other.
//
// # Enhanced fan-out
//
// RegisterStreamConsumer, DescribeStreamConsumer, ListStreamConsumers,
// DeregisterStreamConsumer and SubscribeToShard behave as AWS documents:
// a subscription pushes records as they are put, ends after five minutes,
// refuses a second subscription within 5 s with ResourceInUseException, and
// ends a closed shard with ChildShards. [ConsumerDelay] keeps new consumers
// CREATING for a while; [Client.EndSubscriptions] ends open streams.
//
// # HTTP
//
// [NewServer] serves a Client over Kinesis's JSON protocol on a loopback
// port, so a real *kinesis.Client, or a Kinesis library in another
// language, can use the same streams, faults and clock.
package kinesistest
