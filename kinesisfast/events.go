package kinesisfast

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// An EventPage asks GetRecords, on a client with [AddDecoder] installed, to
// also return the page as Lambda event records, exactly as esmkit's
// internal/event.Convert builds them. The decoder builds them straight from
// the response: a record's eventID, sequence number (the eventID's tail) and
// partition key are one copy of the bytes, in a block shared by 128
// neighbouring records, and the output's types.Records point into the event
// records' fields (SequenceNumber, PartitionKey, ApproximateArrivalTimestamp)
// and share their Data, so neither may be modified while the other is in
// use. A page costs a few allocations, not one per record. Where the SDK's
// decoder decodes the response instead (see the package doc), the records
// are converted from its output, with one allocation per record.
//
// Set the input fields and pass the page with [WithEventPage]. Each
// successful GetRecords call made with that context overwrites the output
// fields; a failed one leaves them cleared. An EventPage is used by one call
// at a time.
type EventPage struct {
	// Inputs: the fields that are the same for every record of the shard.
	StreamARN         string // becomes eventSourceARN
	Region            string // becomes awsRegion
	InvokeIdentityARN string // becomes invokeIdentityArn
	ShardID           string // prefix of eventID

	// Records holds the event records of the last successful call, in the
	// order of GetRecordsOutput.Records and sharing their Data.
	Records []events.KinesisEventRecord
	// Filled reports that Records was set by the last call. It is false if
	// the client did not have the decoder installed (for example a fake),
	// in which case the caller converts GetRecordsOutput.Records itself.
	Filled bool
}

type eventPageKey struct{}

// WithEventPage returns a context that carries ev to GetRecords.
func WithEventPage(ctx context.Context, ev *EventPage) context.Context {
	return context.WithValue(ctx, eventPageKey{}, ev)
}

func eventPageFrom(ctx context.Context) *EventPage {
	ev, _ := ctx.Value(eventPageKey{}).(*EventPage)
	return ev
}

// Constant fields of every Kinesis event record, as in internal/event.
const (
	eventSource          = "aws:kinesis"
	eventName            = "aws:kinesis:record"
	eventVersion         = "1.0"
	kinesisSchemaVersion = "1.0"
)

// fill sets ev.Records from recs, with one allocation per record for its
// eventID: it serves responses the SDK's decoder decoded.
func (ev *EventPage) fill(recs []types.Record) {
	ev.Records = make([]events.KinesisEventRecord, len(recs))
	ev.Filled = true
	for i := range recs {
		r, dst := &recs[i], &ev.Records[i]
		var seq, key string
		if r.SequenceNumber != nil {
			seq = *r.SequenceNumber
		}
		if r.PartitionKey != nil {
			key = *r.PartitionKey
		}
		dst.AwsRegion = ev.Region
		dst.EventID = ev.ShardID + ":" + seq
		dst.EventName = eventName
		dst.EventSource = eventSource
		dst.EventSourceArn = ev.StreamARN
		dst.EventVersion = eventVersion
		dst.InvokeIdentityArn = ev.InvokeIdentityARN
		k := &dst.Kinesis
		if r.ApproximateArrivalTimestamp != nil {
			k.ApproximateArrivalTimestamp.Time = *r.ApproximateArrivalTimestamp
		}
		k.Data = r.Data
		if r.EncryptionType != "" && r.EncryptionType != types.EncryptionTypeNone {
			k.EncryptionType = string(r.EncryptionType)
		}
		k.PartitionKey = key
		k.SequenceNumber = seq
		k.KinesisSchemaVersion = kinesisSchemaVersion
	}
}

func (ev *EventPage) clear() { ev.Records, ev.Filled = nil, false }
