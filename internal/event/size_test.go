package event_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/esmkit/esmkit/internal/event"
)

// marshalSize is the reference RecordSize must equal.
func marshalSize(t testing.TB, v any) int {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	return len(b)
}

func TestRecordSizeCases(t *testing.T) {
	base := func() events.KinesisEventRecord {
		rec := documentedRecord()
		var r events.KinesisEventRecord
		event.Convert(&r, &documentedSource, &rec)
		return r
	}
	at := func(t time.Time) func(r *events.KinesisEventRecord) {
		return func(r *events.KinesisEventRecord) { r.Kinesis.ApproximateArrivalTimestamp.Time = t }
	}
	tests := []struct {
		name string
		edit func(r *events.KinesisEventRecord)
	}{
		{"documented", func(*events.KinesisEventRecord) {}},
		{"zero record", func(r *events.KinesisEventRecord) { *r = events.KinesisEventRecord{} }},
		{"nil data", func(r *events.KinesisEventRecord) { r.Kinesis.Data = nil }},
		{"empty data", func(r *events.KinesisEventRecord) { r.Kinesis.Data = []byte{} }},
		{"data 1 byte", func(r *events.KinesisEventRecord) { r.Kinesis.Data = []byte{0} }},
		{"data 2 bytes", func(r *events.KinesisEventRecord) { r.Kinesis.Data = []byte{0, 1} }},
		{"data 3 bytes", func(r *events.KinesisEventRecord) { r.Kinesis.Data = []byte{0, 1, 2} }},
		{"KMS", func(r *events.KinesisEventRecord) { r.Kinesis.EncryptionType = "KMS" }},
		{"HTML", func(r *events.KinesisEventRecord) { r.Kinesis.PartitionKey = "<a href='x'>&amp;</a>" }},
		{"short escapes", func(r *events.KinesisEventRecord) { r.Kinesis.PartitionKey = "\"\\\b\f\n\r\t/" }},
		{"control characters", func(r *events.KinesisEventRecord) { r.Kinesis.PartitionKey = "\x00\x01\x1f\x7f" }},
		{"line separators", func(r *events.KinesisEventRecord) { r.Kinesis.PartitionKey = "a\u2028b\u2029c\u202a" }},
		{"invalid UTF-8", func(r *events.KinesisEventRecord) { r.Kinesis.PartitionKey = "\xff\xfe\xe2\x80\xc3(\xed\xa0\x80" }},
		{"replacement character", func(r *events.KinesisEventRecord) { r.Kinesis.PartitionKey = "\uFFFD" }},
		{"unicode", func(r *events.KinesisEventRecord) { r.Kinesis.PartitionKey = "héllo, 世界 🙂" }},
		{"escapes in every field", func(r *events.KinesisEventRecord) {
			r.AwsRegion, r.EventID, r.EventName, r.EventSource = "<", ">", "&", "\n"
			r.EventSourceArn, r.EventVersion, r.InvokeIdentityArn = "\"", "\\", "\u2028"
			r.Kinesis.EncryptionType, r.Kinesis.SequenceNumber, r.Kinesis.KinesisSchemaVersion = "\x00", "\xff", "é"
		}},
		{"zero time", at(time.Time{})},
		{"epoch", at(time.Unix(0, 0))},
		{"1ns e-format", at(time.Unix(0, 1))},
		{"-999ns e-format", at(time.Unix(0, -999))},
		{"1µs f-format", at(time.Unix(0, 1000))},
		{"pre-1970", at(time.Unix(-86400*365, 123_456_789))},
		{"sub-ms", at(time.Unix(1545084650, 987_654_321))},
		{"whole second", at(time.Unix(1545084650, 0))},
		{"max UnixNano", at(time.Unix(0, math.MaxInt64))},
		{"min UnixNano", at(time.Unix(0, math.MinInt64))},
		{"year 9999", at(time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := base()
			tc.edit(&r)
			if got, want := event.RecordSize(&r), marshalSize(t, r); got != want {
				b, _ := json.Marshal(r)
				t.Errorf("got RecordSize %d, want %d for %s", got, want, b)
			}
		})
	}
}

func TestEventSizeEmpty(t *testing.T) {
	if got, want := event.EventSize(0, 0), marshalSize(t, events.KinesisEvent{}); got != want {
		t.Errorf("got EventSize(0, 0) %d, want %d", got, want)
	}
	one := []events.KinesisEventRecord{{}}
	if got, want := event.EventEnvelope+event.RecordSize(&one[0]), marshalSize(t, events.KinesisEvent{Records: one}); got != want {
		t.Errorf("got EventEnvelope+RecordSize %d, want %d", got, want)
	}
}

// randString mixes the cases encoding/json treats differently: safe ASCII,
// short escapes, \u00XX escapes (control and HTML characters), multi-byte
// runes, U+2028/U+2029, U+FFFD and invalid UTF-8.
func randString(rng *rand.Rand, maxLen int) string {
	var sb strings.Builder
	n := rng.IntN(maxLen + 1)
	for sb.Len() < n {
		switch rng.IntN(10) {
		case 0:
			sb.WriteByte(byte(rng.IntN(0x20))) // control
		case 1:
			sb.WriteByte("<>&\"\\/'"[rng.IntN(7)])
		case 2:
			sb.WriteRune([]rune{'é', '世', '🙂', '\u2028', '\u2029', '\uFFFD', '\u007f', '\u0080', utf8.MaxRune}[rng.IntN(9)])
		case 3:
			sb.WriteByte(byte(0x80 + rng.IntN(0x80))) // a lone byte ≥ 0x80, usually invalid
		case 4:
			sb.WriteString([]string{"\xed\xa0\x80", "\xe2\x80", "\xf4\x90\x80\x80", "\xc0\xaf"}[rng.IntN(4)])
		default:
			sb.WriteByte(byte(0x20 + rng.IntN(0x5f))) // printable ASCII
		}
	}
	return sb.String()
}

func randTime(rng *rand.Rand) time.Time {
	switch rng.IntN(8) {
	case 0:
		return time.Time{}
	case 1:
		return time.Unix(0, rng.Int64N(2_000_000)-1_000_000) // tiny, around the 'e' cut-off
	case 2:
		return time.Unix(-rng.Int64N(1e10), rng.Int64N(1e9)) // pre-1970, also pre-1678 (UnixNano overflows)
	case 3:
		return time.Unix(rng.Int64N(1e11), rng.Int64N(1e9)) // far future
	case 4:
		return time.Unix(0, int64(rng.Uint64())) // any UnixNano
	case 5:
		return time.UnixMilli(1_500_000_000_000 + rng.Int64N(1e12)) // Kinesis-like, whole ms
	default:
		return time.Unix(1_500_000_000+rng.Int64N(1e9), rng.Int64N(1e9)) // recent, sub-ms
	}
}

func randData(rng *rand.Rand) []byte {
	switch rng.IntN(10) {
	case 0:
		return nil
	case 1:
		return []byte{}
	case 2:
		return make([]byte, rng.IntN(100<<10+1))
	default:
		return make([]byte, rng.IntN(300))
	}
}

func randARN(rng *rand.Rand) string {
	partitions := []string{"aws", "aws-cn", "aws-us-gov"}
	return "arn:" + partitions[rng.IntN(3)] + ":kinesis:" + randString(rng, 15) + ":123456789012:stream/" + randString(rng, 30)
}

func randRecord(rng *rand.Rand) events.KinesisEventRecord {
	r := events.KinesisEventRecord{
		AwsRegion:         randString(rng, 15),
		EventName:         "aws:kinesis:record",
		EventSource:       "aws:kinesis",
		EventSourceArn:    randARN(rng),
		EventVersion:      "1.0",
		InvokeIdentityArn: "arn:aws:iam::123456789012:role/" + randString(rng, 20),
		Kinesis: events.KinesisRecord{
			ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: randTime(rng)},
			Data:                        randData(rng),
			PartitionKey:                randString(rng, 256),
			SequenceNumber:              randString(rng, 60),
			KinesisSchemaVersion:        "1.0",
		},
	}
	r.EventID = "shardId-" + randString(rng, 12) + ":" + r.Kinesis.SequenceNumber
	if rng.IntN(4) == 0 {
		r.Kinesis.EncryptionType = []string{"KMS", "NONE", randString(rng, 5)}[rng.IntN(3)]
	}
	if rng.IntN(20) == 0 { // now and then, arbitrary constants too
		r.EventName, r.EventSource, r.EventVersion, r.Kinesis.KinesisSchemaVersion =
			randString(rng, 10), randString(rng, 10), randString(rng, 10), randString(rng, 10)
	}
	return r
}

func TestRecordSizeRandom(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 4} {
		rng := rand.New(rand.NewPCG(seed, 0x5eed))
		var batch []events.KinesisEventRecord
		sum := 0
		for i := range 1500 {
			r := randRecord(rng)
			got, want := event.RecordSize(&r), marshalSize(t, r)
			if got != want {
				b, _ := json.Marshal(r)
				t.Fatalf("seed %d record %d: got RecordSize %d, want %d for %s", seed, i, got, want, b)
			}
			batch = append(batch, r)
			sum += got
			if rng.IntN(30) == 0 {
				if got, want := event.EventSize(len(batch), sum), marshalSize(t, events.KinesisEvent{Records: batch}); got != want {
					t.Fatalf("seed %d: got EventSize(%d, %d) %d, want %d", seed, len(batch), sum, got, want)
				}
				batch, sum = nil, 0
			}
		}
	}
}
