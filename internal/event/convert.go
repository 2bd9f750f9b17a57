package event

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// Constant fields of every Kinesis event record (spec §5.3).
const (
	EventSource          = "aws:kinesis"
	EventName            = "aws:kinesis:record"
	EventVersion         = "1.0"
	KinesisSchemaVersion = "1.0"
)

// Source holds the fields that are the same for every record of a shard.
// A Source is read-only once built and may be shared between goroutines.
type Source struct {
	// StreamARN becomes eventSourceARN. It is the stream's ARN, also when
	// records are read through an enhanced fan-out consumer.
	StreamARN string
	// Region becomes awsRegion: the stream's region (see [RegionFromARN]).
	Region string
	// InvokeIdentityARN becomes invokeIdentityArn: the function's
	// execution-role ARN. Empty if unknown.
	InvokeIdentityARN string
	// ShardID is the shard the records were read from, the prefix of eventID.
	ShardID string
}

// Convert overwrites every field of dst with the Lambda event record for r,
// read from src's shard. dst.Kinesis.Data is r.Data itself, not a copy, so
// neither may be modified while the other is in use.
//
// Nil SDK pointers become zero values: a record without a partition key
// (possible with the AUTO distribution strategy) gets "", and one without an
// arrival timestamp gets the zero time (which SecondsEpochTime marshals as
// -6795364578.8713455, UnixNano having overflowed).
//
// encryptionType is set only for an encrypted record (r.EncryptionType other
// than "" and "NONE", in practice "KMS"). Lambda's documented event omits the
// field and aws-lambda-go tags it omitempty, so records from an unencrypted
// stream marshal exactly like Lambda's example; whether Lambda sends "KMS"
// for an encrypted stream is not documented (spec §5.3 [O/U]).
//
// Convert allocates once, for the eventID string.
func Convert(dst *events.KinesisEventRecord, src *Source, r *types.Record) {
	var seq, key string
	if r.SequenceNumber != nil {
		seq = *r.SequenceNumber
	}
	if r.PartitionKey != nil {
		key = *r.PartitionKey
	}
	convert(dst, src, r, src.ShardID+":"+seq, seq, key)
}

// ConvertPage converts every record of a page, like Convert into dst[i]
// (len(dst) must be len(recs)), but copies the page's strings into one
// allocation: each record's eventID, with its sequenceNumber as the
// eventID's tail, and its partition key. So a call costs one allocation
// instead of one per record, and the records it builds keep alive only
// that string and their Data, not the SDK's per-record strings, which
// leaves the garbage collector fewer objects to mark while records wait
// for their batch. Keeping one record keeps the strings of every record
// converted with it alive.
func ConvertPage(dst []events.KinesisEventRecord, src *Source, recs []types.Record) {
	n := 0
	for i := range recs {
		r := &recs[i]
		n += len(src.ShardID) + 1
		if s := r.SequenceNumber; s != nil {
			n += len(*s)
		}
		if s := r.PartitionKey; s != nil {
			n += len(*s)
		}
	}
	var b strings.Builder
	b.Grow(n)
	for i := range recs {
		r := &recs[i]
		b.WriteString(src.ShardID)
		b.WriteByte(':')
		if s := r.SequenceNumber; s != nil {
			b.WriteString(*s)
		}
		if s := r.PartitionKey; s != nil {
			b.WriteString(*s)
		}
	}
	all := b.String()
	off := 0
	for i := range recs {
		r := &recs[i]
		id := off + len(src.ShardID) + 1
		if s := r.SequenceNumber; s != nil {
			id += len(*s)
		}
		key := id
		if s := r.PartitionKey; s != nil {
			key += len(*s)
		}
		convert(&dst[i], src, r, all[off:id], all[off+len(src.ShardID)+1:id], all[id:key])
		off = key
	}
}

// convert fills dst from r but for the strings, which the caller passes:
// r's sequence number and partition key, or copies of them.
func convert(dst *events.KinesisEventRecord, src *Source, r *types.Record, eventID, seq, key string) {
	dst.AwsRegion = src.Region
	dst.EventID = eventID
	dst.EventName = EventName
	dst.EventSource = EventSource
	dst.EventSourceArn = src.StreamARN
	dst.EventVersion = EventVersion
	dst.InvokeIdentityArn = src.InvokeIdentityARN

	k := &dst.Kinesis
	k.ApproximateArrivalTimestamp.Time = time.Time{}
	if r.ApproximateArrivalTimestamp != nil {
		k.ApproximateArrivalTimestamp.Time = *r.ApproximateArrivalTimestamp
	}
	k.Data = r.Data
	k.EncryptionType = ""
	if r.EncryptionType != "" && r.EncryptionType != types.EncryptionTypeNone {
		k.EncryptionType = string(r.EncryptionType)
	}
	k.PartitionKey = key
	k.SequenceNumber = seq
	k.KinesisSchemaVersion = KinesisSchemaVersion
}

// ErrInvalidARN is wrapped by the errors of [RegionFromARN] and
// [StreamNameFromARN].
var ErrInvalidARN = errors.New("invalid Kinesis stream ARN") // no prefix: it surfaces through esm and shard

// RegionFromARN returns the region of a Kinesis stream ARN of the form
// arn:<partition>:kinesis:<region>:<account>:stream/<name>, in any partition
// (aws, aws-cn, aws-us-gov, ...).
func RegionFromARN(arn string) (string, error) {
	region, _, err := parseStreamARN(arn)
	return region, err
}

// StreamNameFromARN returns the stream name of a Kinesis stream ARN of the
// form arn:<partition>:kinesis:<region>:<account>:stream/<name>. A consumer
// ARN (…:stream/<name>/consumer/<consumer>:<time>) is not a stream ARN and is
// refused.
func StreamNameFromARN(arn string) (string, error) {
	_, name, err := parseStreamARN(arn)
	return name, err
}

func parseStreamARN(arn string) (region, name string, err error) {
	rest, ok := strings.CutPrefix(arn, "arn:")
	var partition, service, account, resource string
	if ok {
		partition, rest, _ = strings.Cut(rest, ":")
		service, rest, _ = strings.Cut(rest, ":")
		region, rest, _ = strings.Cut(rest, ":")
		account, resource, ok = strings.Cut(rest, ":")
	}
	if !ok || partition == "" || service != "kinesis" || region == "" || account == "" {
		return "", "", fmt.Errorf("%w %q: want arn:<partition>:kinesis:<region>:<account>:stream/<name>", ErrInvalidARN, arn)
	}
	name, ok = strings.CutPrefix(resource, "stream/")
	if !ok || !validStreamName(name) {
		return "", "", fmt.Errorf("%w %q: resource %q is not stream/<name> with a name of 1 to 128 of [a-zA-Z0-9_.-]", ErrInvalidARN, arn, resource)
	}
	return region, name, nil
}

// validStreamName reports whether s matches Kinesis's StreamName pattern
// [a-zA-Z0-9_.-]+ with length 1 to 128.
func validStreamName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}
