// Package event builds Lambda's Kinesis invocation event from SDK records and
// sizes it exactly without marshalling.
//
// # Conversion
//
// [Convert] fills an [events.KinesisEventRecord] from a Kinesis SDK
// [types.Record] the way Lambda does (spec §5.3): constant eventSource,
// eventName, eventVersion and kinesisSchemaVersion, an eventID of
// "<shardId>:<sequenceNumber>", and the stream ARN, region and role from a
// [Source] shared by every record of a shard. Data is not copied: the event
// record holds the SDK record's slice. The only allocation is the eventID.
//
// # Size
//
// Lambda refuses a synchronous invocation whose payload is [MaxPayload] bytes
// or more, so batches are cut by their JSON size. [RecordSize] returns exactly
// len(json.Marshal(r)) by arithmetic: it mirrors encoding/json's string
// escaping, base64 length and float formatting and allocates nothing.
// [EventSize] adds the envelope of an [events.KinesisEvent]. Exactness is
// checked against json.Marshal by randomised and fuzz tests, which also pass
// under GOEXPERIMENT=jsonv2 (where encoding/json writes an invalid UTF-8 byte
// as a raw U+FFFD rather than \ufffd; a build tag selects that size).
package event
