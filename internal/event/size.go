package event

import (
	"encoding/base64"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// MaxPayload is Lambda's 6 MB limit on a synchronous invocation payload,
// 6,291,456 bytes (spec §5.2). Lambda's error text says a request must be
// smaller than this, while spec §5.2.3 lets a batch reach it; a caller that
// wants the strict reading limits batches to MaxPayload−1.
const MaxPayload = 6 * 1024 * 1024

// EventEnvelope and RecordSeparator describe how records join into an
// [events.KinesisEvent]: for n ≥ 1 records its JSON size is
// EventEnvelope + Σ RecordSize + RecordSeparator×(n−1), the shape of a
// batcher.Size.
const (
	EventEnvelope   = len(`{"Records":[]}`)
	RecordSeparator = len(`,`)
)

// nilEvent is the JSON size of an events.KinesisEvent with nil Records.
const nilEvent = len(`{"Records":null}`)

// EventSize returns len(json.Marshal(events.KinesisEvent{Records: recs})) for
// n records whose [RecordSize]s sum to sum. For n ≤ 0 it assumes nil Records,
// which marshal as null (16 bytes, where an empty non-nil slice would give 14).
func EventSize(n, sum int) int {
	if n <= 0 {
		return nilEvent
	}
	return EventEnvelope + sum + RecordSeparator*(n-1)
}

// recordOverhead is the size of a marshalled KinesisEventRecord less its
// values and less the optional encryptionType; field order is the struct's.
const recordOverhead = len(`{"awsRegion":,"eventID":,"eventName":,"eventSource":,"eventSourceARN":,"eventVersion":,"invokeIdentityArn":,"kinesis":{"approximateArrivalTimestamp":,"data":,"partitionKey":,"sequenceNumber":,"kinesisSchemaVersion":}}`)

// encryptionTypeOverhead is what a non-empty encryptionType adds besides its value.
const encryptionTypeOverhead = len(`,"encryptionType":`)

// RecordSize returns exactly len(json.Marshal(r)) as encoding/json (with its
// default HTML escaping) would produce it, without marshalling or allocating.
// Its cost grows with the length of r's strings, not of r's data.
func RecordSize(r *events.KinesisEventRecord) int {
	k := &r.Kinesis
	n := recordOverhead +
		stringSize(r.AwsRegion) +
		stringSize(r.EventID) +
		stringSize(r.EventName) +
		stringSize(r.EventSource) +
		stringSize(r.EventSourceArn) +
		stringSize(r.EventVersion) +
		stringSize(r.InvokeIdentityArn) +
		secondsSize(k.ApproximateArrivalTimestamp) +
		bytesSize(k.Data) +
		stringSize(k.PartitionKey) +
		stringSize(k.SequenceNumber) +
		stringSize(k.KinesisSchemaVersion)
	if k.EncryptionType != "" {
		n += encryptionTypeOverhead + stringSize(k.EncryptionType)
	}
	return n
}

// bytesSize is the size of a []byte in encoding/json: null when nil, else
// quoted standard padded base64.
func bytesSize(b []byte) int {
	if b == nil {
		return len("null")
	}
	return 2 + base64.StdEncoding.EncodedLen(len(b))
}

// asciiSize[c] is the size of ASCII byte c in an encoding/json string with
// HTML escaping: 1 for a safe byte, 2 for \" \\ \b \f \n \r \t, and 6 for
// \u00XX (other control characters, <, > and &).
var asciiSize = func() (t [utf8.RuneSelf]uint8) {
	for c := range t {
		switch {
		case c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t':
			t[c] = 2
		case c < 0x20 || c == '<' || c == '>' || c == '&':
			t[c] = 6
		default:
			t[c] = 1
		}
	}
	return t
}()

// stringSize is the size of s as an encoding/json string, quotes included.
// It follows encoding/json's appendString: each invalid UTF-8 byte becomes
// \ufffd (U+FFFD unescaped under GOEXPERIMENT=jsonv2), and U+2028 and U+2029
// are escaped as \u2028 and \u2029.
func stringSize(s string) int {
	n := 2
	i := 0
	// Eight bytes at a time while none needs escaping or decoding: the
	// usual case (sequence numbers, most partition keys).
	for ; len(s)-i >= 8; i += 8 {
		w := s[i : i+8]
		x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
		if !digits8(x) && !plain8(x) {
			break
		}
		n += 8
	}
	for i < len(s) {
		if c := s[i]; c < utf8.RuneSelf {
			n += int(asciiSize[c])
			i++
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			n += invalidByteSize
		case c == '\u2028', c == '\u2029':
			n += len(`\u2028`)
		default:
			n += size
		}
		i += size
	}
	return n
}

// digits8 reports whether each byte of x is an ASCII digit, as in every
// sequence number: a cheaper test than plain8 that implies it.
func digits8(x uint64) bool {
	const lo = 0x0101010101010101
	// Bytes 0x30-0x3f share the high nibble 3; adding 6 keeps it exactly
	// for 0x30-0x39 and cannot carry into the next byte.
	return x&(lo*0xf0) == lo*0x30 && (x+lo*0x06)&(lo*0xf0) == lo*0x30
}

// plain8 reports whether each byte of x is ASCII that encoding/json writes
// as itself: not a control character, '"', '\\', '<', '>' or '&'.
func plain8(x uint64) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	// hasZero(v) is nonzero exactly when some byte of v is zero.
	hasZero := func(v uint64) uint64 { return (v - lo) & ^v & hi }
	bad := x & hi                  // non-ASCII
	bad |= (x - lo*0x20) & ^x & hi // a byte below 0x20
	bad |= hasZero(x ^ (lo * '"'))
	bad |= hasZero(x ^ (lo * '\\'))
	bad |= hasZero(x ^ (lo * '<'))
	bad |= hasZero(x ^ (lo * '>'))
	bad |= hasZero(x ^ (lo * '&'))
	return bad == 0
}

// secondsSize is the size of t as marshalled by SecondsEpochTime.MarshalJSON:
// float64(UnixNano())/1e9 through encoding/json's float encoder, which picks
// the 'f' or 'e' format as ES6 does and then trims an exponent's leading zero
// (e-09 to e-9). UnixNano cannot give NaN or ±Inf, which encoding/json refuses.
func secondsSize(t events.SecondsEpochTime) int {
	f := float64(t.UnixNano()) / 1e9
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	var buf [32]byte // longest: -1.2345678901234567e-308 (24 bytes)
	b := strconv.AppendFloat(buf[:0], f, format, -1, 64)
	n := len(b)
	if format == 'e' && n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
		n--
	}
	return n
}

// Sizer is RecordSize for records that Convert built from one Source: the
// fields every such record shares are measured once, in NewSizer, so each
// record costs only its own fields. A Sizer is immutable and safe for
// concurrent use.
type Sizer struct {
	fixed int // overhead plus every Source-derived and constant field
}

// NewSizer returns a Sizer for records converted from src.
func NewSizer(src *Source) Sizer {
	return Sizer{fixed: recordOverhead +
		stringSize(src.Region) +
		// eventID is shardID + ":" + sequence number; escaping is per
		// character and ':' cannot continue a multi-byte sequence, so the
		// parts add up: the shard ID with eventID's quotes, and the colon.
		stringSize(src.ShardID) + 1 +
		stringSize(EventName) +
		stringSize(EventSource) +
		stringSize(src.StreamARN) +
		stringSize(EventVersion) +
		stringSize(src.InvokeIdentityARN) +
		stringSize(KinesisSchemaVersion)}
}

// Size returns RecordSize(r) for a record Convert built from the Sizer's
// Source.
func (z Sizer) Size(r *events.KinesisEventRecord) int {
	return z.SizeWithTimestamp(r, TimestampSize(r.Kinesis.ApproximateArrivalTimestamp))
}

// TimestampSize is the JSON size of an approximateArrivalTimestamp. Records
// read together often share one, so callers may keep the last result.
func TimestampSize(t events.SecondsEpochTime) int { return secondsSize(t) }

// SizeWithTimestamp is Size given TimestampSize of r's arrival time.
func (z Sizer) SizeWithTimestamp(r *events.KinesisEventRecord, tsSize int) int {
	k := &r.Kinesis
	// The sequence number appears twice: unquoted in eventID and quoted in
	// sequenceNumber.
	seq := stringSize(k.SequenceNumber)
	n := z.fixed + seq + seq - 2 +
		tsSize +
		bytesSize(k.Data) +
		stringSize(k.PartitionKey)
	if k.EncryptionType != "" {
		n += encryptionTypeOverhead + stringSize(k.EncryptionType)
	}
	return n
}
