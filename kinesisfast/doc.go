// Package kinesisfast decodes Kinesis GetRecords responses into pooled and
// per-page memory, as an opt-in replacement for the SDK's decoder.
//
// # Installing
//
// The decoder is an aws-sdk-go-v2 middleware, installed per client or per
// call:
//
//	client := kinesis.NewFromConfig(cfg, kinesisfast.WithDecoder())
//	// or: kinesis.New(opts, kinesis.WithAPIOptions(kinesisfast.AddDecoder))
//
// It replaces only the Deserialize step of GetRecords; the result is an
// ordinary *kinesis.GetRecordsOutput, so callers do not change. esm's
// mappings install it on their GetRecords calls by default (esm.FastDecode).
//
// # What it does
//
// The body is read once into a pooled buffer, sized from Content-Length when
// the server sends it. A hand-written scanner then checks the JSON and notes
// where each field is; a second pass allocates, per page, one []types.Record,
// one block for the values the records point to, 32 KiB blocks for the
// records' Data (base64 decoded straight into them) and one block of bytes
// for every string, which are made with unsafe.String. That is a few
// allocations per page, and one per 32 KiB of Data, instead of about nine
// per record.
//
// # Same results as the SDK
//
// The scanner follows smithy-go's JSON rules (string escapes, number
// grammar, null members skipped, timestamps as epoch seconds rounded as
// smithy-go's ParseEpochSeconds rounds them). Anything it does not decode
// exactly as the SDK would goes to the SDK's own deserializer, with the
// same bytes: responses with a status outside 2xx (so errors such as
// *types.ProvisionedThroughputExceededException are the SDK's, byte for
// byte), transport errors, ChildShards (present once per shard), escaped
// member names, a repeated Records member, timestamps given as strings or
// beyond ±1e15 s, deep nesting in unknown members, invalid JSON and
// trailing bytes. FuzzGetRecords checks that both clients return equal
// outputs or equal errors for arbitrary bodies.
//
// # Memory
//
// A page's strings share one arena that is never written after the call
// returns, and records' Data are decoded into 32 KiB blocks shared by
// neighbouring records (a record's Data is a full slice expression, so
// appending to it copies). Keeping a record keeps its block and its page's
// string arena alive, not the whole page; with an [EventPage], the strings
// are in blocks of 128 records instead, and keeping an event record keeps
// its page's event array and its own blocks. NextShardIterator is allocated on
// its own: the next call's input holds it, and that call's output reaches
// its input, so an iterator inside a page would keep every earlier page
// alive.
//
// At most max(8, 4×GOMAXPROCS) responses are read and decoded at once, in
// the whole process; other calls wait for a slot before reading their body
// (or, if their context ends while they wait, go to the SDK's decoder).
// Decoding is CPU work, so more at a time would only hold more bodies in
// memory: with 64 shards read at once this keeps the pooled body buffers
// to a handful.
//
// # Event records
//
// An [EventPage] passed in the context with [WithEventPage] makes the call
// also return the page as []events.KinesisEventRecord, decoded straight
// into them: the output's types.Records then point into the event records,
// and converting the page afterwards (a second pass over it, a second copy
// of its strings) is not needed. esm's mappings read pages this way.
package kinesisfast
