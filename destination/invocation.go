package destination

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/esmkit/esmkit/internal/seqnum"
)

// Condition is why a batch was discarded: requestContext.condition in
// Lambda's invocation record.
type Condition string

const (
	// RetryAttemptsExhausted: the function failed on the initial attempt
	// and on every retry MaximumRetryAttempts allows. Documented by AWS.
	RetryAttemptsExhausted Condition = "RetryAttemptsExhausted"
	// RecordAgeExceeded: a record was older than MaximumRecordAgeInSeconds.
	// Observed in emulators; AWS does not document the string.
	RecordAgeExceeded Condition = "RecordAgeExceeded"
)

// recordVersion is the invocation record's "version".
const recordVersion = "1.0"

// timeLayout is the layout of every timestamp in the record: ISO-8601 in
// UTC with milliseconds, as in "2019-11-14T00:38:06.021Z".
const timeLayout = "2006-01-02T15:04:05.000Z"

// Invocation is Lambda's invocation record for one discarded batch of one
// shard: what an on-failure destination receives. Its fields map one to one
// onto the document's fields (named in each comment); see MarshalRecord and
// MarshalObject for the documents themselves.
//
// A zero Invocation is not valid: Send requires Condition, ShardID,
// StreamARN, the sequence numbers, both arrival times and a positive
// BatchSize, and MappingUUID for S3-style destinations. Other fields may be
// zero and are written as they are.
type Invocation struct {
	// RequestID is the request ID of the last invocation of the batch
	// (requestContext.requestId), "" if it was discarded before any.
	RequestID string
	// FunctionARN is the ARN of the invoked function, with its qualifier
	// if it has one (requestContext.functionArn).
	FunctionARN string
	// Condition is why the batch was discarded (requestContext.condition).
	Condition Condition
	// ApproximateInvokeCount is the number of invocations attempted for
	// these records (requestContext.approximateInvokeCount): 1 + retries.
	ApproximateInvokeCount int

	// StatusCode is the HTTP status of the last invocation
	// (responseContext.statusCode): 200 for a function error.
	StatusCode int
	// ExecutedVersion is the function version that ran, such as "$LATEST"
	// (responseContext.executedVersion).
	ExecutedVersion string
	// FunctionError is "Unhandled" or "Handled" when the last invocation
	// returned a function error (responseContext.functionError). "" is
	// written as null, as Lambda does when the last invocation returned a
	// partial batch response without an error.
	FunctionError string

	// Timestamp is when the batch was discarded ("timestamp"). Send uses
	// the current time if it is zero. It is written in UTC with
	// millisecond precision, and also names the S3 object.
	Timestamp time.Time

	// ShardID is the batch's shard (KinesisBatchInfo.shardId).
	ShardID string
	// StartSequenceNumber and EndSequenceNumber are the sequence numbers
	// of the first and last discarded record, equal for one record
	// (KinesisBatchInfo.startSequenceNumber, .endSequenceNumber).
	StartSequenceNumber string
	EndSequenceNumber   string
	// ApproximateArrivalOfFirstRecord and ApproximateArrivalOfLastRecord
	// are the approximate arrival timestamps of those records
	// (KinesisBatchInfo.approximateArrivalOfFirstRecord, …LastRecord),
	// written in UTC with millisecond precision.
	ApproximateArrivalOfFirstRecord time.Time
	ApproximateArrivalOfLastRecord  time.Time
	// BatchSize is the number of discarded records (KinesisBatchInfo.batchSize).
	BatchSize int
	// StreamARN is the stream's ARN (KinesisBatchInfo.streamArn).
	StreamARN string

	// MappingUUID is the event source mapping's UUID. It is not part of
	// the document; S3-style destinations use it in the object key
	// aws/lambda/<MappingUUID>/<ShardID>/…, and require it.
	MappingUUID string
	// Event holds the discarded records as the function received them.
	// Only S3-style destinations use it: as "payload", the event as a
	// JSON string. esmkit puts exactly the discarded records here.
	Event events.KinesisEvent
}

// ErrInvalidInvocation is wrapped by the errors for an Invocation that
// lacks a required field or has a malformed one, and by Unmarshal's errors.
var ErrInvalidInvocation = errors.New("destination: invalid invocation")

// validate checks inv for a destination of the given kind (withPayload for
// S3-style). It does not look at Timestamp, which Send fills in.
func (inv *Invocation) validate(withPayload bool) error {
	if inv == nil {
		return fmt.Errorf("%w: nil Invocation", ErrInvalidInvocation)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidInvocation}, args...)...)
	}
	for _, f := range []struct{ name, v string }{
		{"RequestID", inv.RequestID}, {"FunctionARN", inv.FunctionARN},
		{"Condition", string(inv.Condition)}, {"ExecutedVersion", inv.ExecutedVersion},
		{"FunctionError", inv.FunctionError}, {"ShardID", inv.ShardID},
		{"StreamARN", inv.StreamARN}, {"MappingUUID", inv.MappingUUID},
	} {
		if !utf8.ValidString(f.v) {
			return bad("%s %q is not valid UTF-8", f.name, f.v)
		}
	}
	switch {
	case inv.Condition == "":
		return bad("empty Condition")
	case inv.ShardID == "":
		return bad("empty ShardID")
	case strings.Contains(inv.ShardID, "/"):
		return bad("ShardID %q contains a slash", inv.ShardID)
	case inv.StreamARN == "":
		return bad("empty StreamARN")
	case !seqnum.Valid(inv.StartSequenceNumber):
		return bad("StartSequenceNumber %q is not a decimal string of 1 to 128 digits", inv.StartSequenceNumber)
	case !seqnum.Valid(inv.EndSequenceNumber):
		return bad("EndSequenceNumber %q is not a decimal string of 1 to 128 digits", inv.EndSequenceNumber)
	case seqnum.Less(inv.EndSequenceNumber, inv.StartSequenceNumber):
		return bad("EndSequenceNumber %s is before StartSequenceNumber %s", inv.EndSequenceNumber, inv.StartSequenceNumber)
	case inv.ApproximateArrivalOfFirstRecord.IsZero():
		return bad("zero ApproximateArrivalOfFirstRecord")
	case inv.ApproximateArrivalOfLastRecord.IsZero():
		return bad("zero ApproximateArrivalOfLastRecord")
	case inv.BatchSize < 1:
		return bad("BatchSize %d is not positive", inv.BatchSize)
	case inv.ApproximateInvokeCount < 0:
		return bad("ApproximateInvokeCount %d is negative", inv.ApproximateInvokeCount)
	}
	if withPayload {
		switch {
		case inv.MappingUUID == "":
			return bad("empty MappingUUID (S3 object keys need it)")
		case strings.Contains(inv.MappingUUID, "/"):
			return bad("MappingUUID %q contains a slash", inv.MappingUUID)
		}
	}
	return nil
}

// The document, field by field in the order of AWS's examples:
// encoding/json writes struct fields in declaration order.
type document struct {
	RequestContext   requestContext  `json:"requestContext"`
	ResponseContext  responseContext `json:"responseContext"`
	Version          string          `json:"version"`
	Timestamp        string          `json:"timestamp"`
	KinesisBatchInfo batchInfo       `json:"KinesisBatchInfo"`
	Payload          *string         `json:"payload,omitempty"`
}

type requestContext struct {
	RequestID              string `json:"requestId"`
	FunctionARN            string `json:"functionArn"`
	Condition              string `json:"condition"`
	ApproximateInvokeCount int    `json:"approximateInvokeCount"`
}

type responseContext struct {
	StatusCode      int     `json:"statusCode"`
	ExecutedVersion string  `json:"executedVersion"`
	FunctionError   *string `json:"functionError"` // nil: null
}

type batchInfo struct {
	ShardID                         string `json:"shardId"`
	StartSequenceNumber             string `json:"startSequenceNumber"`
	EndSequenceNumber               string `json:"endSequenceNumber"`
	ApproximateArrivalOfFirstRecord string `json:"approximateArrivalOfFirstRecord"`
	ApproximateArrivalOfLastRecord  string `json:"approximateArrivalOfLastRecord"`
	BatchSize                       int    `json:"batchSize"`
	StreamARN                       string `json:"streamArn"`
}

// The event in "payload", in the field order of Lambda's Kinesis events
// (AWS's examples), which differs from the declaration order of
// events.KinesisEventRecord.
type payloadEvent struct {
	Records []payloadRecord `json:"Records"`
}

type payloadRecord struct {
	Kinesis           payloadKinesis `json:"kinesis"`
	EventSource       string         `json:"eventSource"`
	EventVersion      string         `json:"eventVersion"`
	EventID           string         `json:"eventID"`
	EventName         string         `json:"eventName"`
	InvokeIdentityARN string         `json:"invokeIdentityArn"`
	AWSRegion         string         `json:"awsRegion"`
	EventSourceARN    string         `json:"eventSourceARN"`
}

type payloadKinesis struct {
	KinesisSchemaVersion        string                  `json:"kinesisSchemaVersion"`
	PartitionKey                string                  `json:"partitionKey"`
	SequenceNumber              string                  `json:"sequenceNumber"`
	Data                        []byte                  `json:"data"`
	ApproximateArrivalTimestamp events.SecondsEpochTime `json:"approximateArrivalTimestamp"`
	// Not in AWS's examples; written only when set, last.
	EncryptionType string `json:"encryptionType,omitempty"`
}

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func (inv *Invocation) document() document {
	doc := document{
		RequestContext: requestContext{
			RequestID:              inv.RequestID,
			FunctionARN:            inv.FunctionARN,
			Condition:              string(inv.Condition),
			ApproximateInvokeCount: inv.ApproximateInvokeCount,
		},
		ResponseContext: responseContext{
			StatusCode:      inv.StatusCode,
			ExecutedVersion: inv.ExecutedVersion,
		},
		Version:   recordVersion,
		Timestamp: formatTime(inv.Timestamp),
		KinesisBatchInfo: batchInfo{
			ShardID:                         inv.ShardID,
			StartSequenceNumber:             inv.StartSequenceNumber,
			EndSequenceNumber:               inv.EndSequenceNumber,
			ApproximateArrivalOfFirstRecord: formatTime(inv.ApproximateArrivalOfFirstRecord),
			ApproximateArrivalOfLastRecord:  formatTime(inv.ApproximateArrivalOfLastRecord),
			BatchSize:                       inv.BatchSize,
			StreamARN:                       inv.StreamARN,
		},
	}
	if inv.FunctionError != "" {
		fe := inv.FunctionError
		doc.ResponseContext.FunctionError = &fe
	}
	return doc
}

// encode writes v as compact JSON without a trailing newline and without
// encoding/json's HTML escaping of <, > and &: Lambda's documents are not
// HTML-escaped, and a partition key may contain those characters.
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// MarshalRecord returns the invocation record Lambda sends to SQS queues
// and SNS topics, as compact JSON with the fields in the order of AWS's
// example:
//
//	{"requestContext":{"requestId":…,"functionArn":…,"condition":…,"approximateInvokeCount":…},
//	 "responseContext":{"statusCode":…,"executedVersion":…,"functionError":…},
//	 "version":"1.0","timestamp":"2019-11-14T00:38:06.021Z",
//	 "KinesisBatchInfo":{"shardId":…,"startSequenceNumber":…,"endSequenceNumber":…,
//	   "approximateArrivalOfFirstRecord":…,"approximateArrivalOfLastRecord":…,"batchSize":…,"streamArn":…}}
//
// It holds no record data. Times are written in UTC with milliseconds. It
// returns an error wrapping ErrInvalidInvocation if inv is invalid (see
// Invocation) or its Timestamp is zero. MappingUUID and Event are not used.
func MarshalRecord(inv *Invocation) ([]byte, error) {
	if err := inv.validate(false); err != nil {
		return nil, err
	}
	if inv.Timestamp.IsZero() {
		return nil, fmt.Errorf("%w: zero Timestamp", ErrInvalidInvocation)
	}
	return encode(inv.document())
}

// MarshalObject returns the invocation record Lambda writes to S3: the
// document of MarshalRecord plus a last field "payload", inv.Event as a JSON
// string. In the event, each record's fields are in the order of Lambda's
// Kinesis events (kinesis{kinesisSchemaVersion, partitionKey,
// sequenceNumber, data, approximateArrivalTimestamp}, eventSource,
// eventVersion, eventID, eventName, invokeIdentityArn, awsRegion,
// eventSourceARN), with encryptionType last in kinesis when set, nil Data
// written as "" and nil Records as [].
//
// It returns an error wrapping ErrInvalidInvocation if inv is invalid, its
// Timestamp is zero, or MappingUUID is empty.
func MarshalObject(inv *Invocation) ([]byte, error) {
	if err := inv.validate(true); err != nil {
		return nil, err
	}
	if inv.Timestamp.IsZero() {
		return nil, fmt.Errorf("%w: zero Timestamp", ErrInvalidInvocation)
	}
	return marshalObject(inv)
}

func marshalObject(inv *Invocation) ([]byte, error) {
	ev := payloadEvent{Records: make([]payloadRecord, len(inv.Event.Records))}
	for i := range inv.Event.Records {
		r := &inv.Event.Records[i]
		data := r.Kinesis.Data
		if data == nil {
			data = []byte{}
		}
		ev.Records[i] = payloadRecord{
			Kinesis: payloadKinesis{
				KinesisSchemaVersion:        r.Kinesis.KinesisSchemaVersion,
				PartitionKey:                r.Kinesis.PartitionKey,
				SequenceNumber:              r.Kinesis.SequenceNumber,
				Data:                        data,
				ApproximateArrivalTimestamp: r.Kinesis.ApproximateArrivalTimestamp,
				EncryptionType:              r.Kinesis.EncryptionType,
			},
			EventSource:       r.EventSource,
			EventVersion:      r.EventVersion,
			EventID:           r.EventID,
			EventName:         r.EventName,
			InvokeIdentityARN: r.InvokeIdentityArn,
			AWSRegion:         r.AwsRegion,
			EventSourceARN:    r.EventSourceArn,
		}
	}
	payload, err := encode(ev)
	if err != nil {
		return nil, err
	}
	doc := inv.document()
	s := string(payload)
	doc.Payload = &s
	return encode(doc)
}

// Unmarshal parses an invocation record made by MarshalRecord or
// MarshalObject, or by Lambda: an SQS message body, an SNS message (not its
// notification envelope) or an S3 object. A "payload", when present, is
// parsed into Event, with arrival timestamps rounded to the millisecond.
// MappingUUID is left empty: it is in the S3 object key, not the document.
//
// Unmarshal is for consumers of a destination, for example a program that
// reads the dead-letter queue and re-reads the records from the stream at
// StartSequenceNumber. It returns an error wrapping ErrInvalidInvocation if
// body is not such a document.
func Unmarshal(body []byte) (*Invocation, error) {
	var doc document
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidInvocation, err)
	}
	if doc.Version != recordVersion {
		return nil, fmt.Errorf("%w: version %q, want %q", ErrInvalidInvocation, doc.Version, recordVersion)
	}
	inv := &Invocation{
		RequestID:              doc.RequestContext.RequestID,
		FunctionARN:            doc.RequestContext.FunctionARN,
		Condition:              Condition(doc.RequestContext.Condition),
		ApproximateInvokeCount: doc.RequestContext.ApproximateInvokeCount,
		StatusCode:             doc.ResponseContext.StatusCode,
		ExecutedVersion:        doc.ResponseContext.ExecutedVersion,
		ShardID:                doc.KinesisBatchInfo.ShardID,
		StartSequenceNumber:    doc.KinesisBatchInfo.StartSequenceNumber,
		EndSequenceNumber:      doc.KinesisBatchInfo.EndSequenceNumber,
		BatchSize:              doc.KinesisBatchInfo.BatchSize,
		StreamARN:              doc.KinesisBatchInfo.StreamARN,
	}
	if fe := doc.ResponseContext.FunctionError; fe != nil {
		inv.FunctionError = *fe
	}
	for _, t := range []struct {
		name string
		s    string
		dst  *time.Time
	}{
		{"timestamp", doc.Timestamp, &inv.Timestamp},
		{"approximateArrivalOfFirstRecord", doc.KinesisBatchInfo.ApproximateArrivalOfFirstRecord, &inv.ApproximateArrivalOfFirstRecord},
		{"approximateArrivalOfLastRecord", doc.KinesisBatchInfo.ApproximateArrivalOfLastRecord, &inv.ApproximateArrivalOfLastRecord},
	} {
		v, err := time.Parse(time.RFC3339Nano, t.s)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrInvalidInvocation, t.name, err)
		}
		*t.dst = v.UTC()
	}
	if doc.Payload != nil {
		if err := json.Unmarshal([]byte(*doc.Payload), &inv.Event); err != nil {
			return nil, fmt.Errorf("%w: payload: %v", ErrInvalidInvocation, err)
		}
		for i := range inv.Event.Records {
			ts := &inv.Event.Records[i].Kinesis.ApproximateArrivalTimestamp
			if ts.Before(minArrival) || !ts.Before(maxArrival) {
				return nil, fmt.Errorf("%w: payload: record %d: approximateArrivalTimestamp %v out of range", ErrInvalidInvocation, i, ts.Time)
			}
			ts.Time = roundMilli(ts.Time)
		}
	}
	if inv.Timestamp.IsZero() {
		return nil, fmt.Errorf("%w: zero timestamp", ErrInvalidInvocation)
	}
	if err := inv.validate(false); err != nil {
		return nil, err
	}
	return inv, nil
}

// The arrival timestamps Unmarshal accepts: from Unix time 0 to some years
// before 2262, the last year events.SecondsEpochTime can write (it uses
// time.Time.UnixNano).
var (
	minArrival = time.Unix(0, 0)
	maxArrival = time.Unix(9e9, 0)
)

// roundMilli undoes the float error of a JSON seconds timestamp: Kinesis
// arrival times have millisecond precision, and the nearest float64 to one
// is well within half a millisecond of it.
func roundMilli(t time.Time) time.Time {
	return time.UnixMilli(t.Unix()*1000 + int64(math.Round(float64(t.Nanosecond())/1e6)))
}
