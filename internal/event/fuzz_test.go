package event_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/esmkit/esmkit/internal/event"
)

// FuzzRecordSize checks the one invariant of RecordSize: for any record it
// equals len(json.Marshal(record)). The fuzzer drives every string field
// (escaping), data (nil, empty, base64 padding) and the timestamp (float
// formatting, including UnixNano overflow).
func FuzzRecordSize(f *testing.F) {
	f.Add("us-east-2", "shardId-000000000006:4959", "1", "4959", "", []byte("Hello"), false, int64(1545084650), int64(987_000_000))
	f.Add("<&>", "\u2028\u2029", "\xff\x00\n", "\"\\", "KMS", []byte(nil), true, int64(0), int64(1))
	f.Add("", "", "", "", "NONE", []byte{}, false, int64(-1e10), int64(-1))
	f.Fuzz(func(t *testing.T, region, eventID, key, seq, enc string, data []byte, nilData bool, sec, nsec int64) {
		if nilData {
			data = nil
		} else if data == nil {
			data = []byte{}
		}
		r := events.KinesisEventRecord{
			AwsRegion:         region,
			EventID:           eventID,
			EventName:         key + seq,
			EventSource:       "aws:kinesis",
			EventSourceArn:    "arn:aws:kinesis:" + region + ":123456789012:stream/" + key,
			EventVersion:      enc,
			InvokeIdentityArn: eventID,
			Kinesis: events.KinesisRecord{
				ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: time.Unix(sec, nsec)},
				Data:                        data,
				EncryptionType:              enc,
				PartitionKey:                key,
				SequenceNumber:              seq,
				KinesisSchemaVersion:        region,
			},
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := event.RecordSize(&r), len(b); got != want {
			t.Fatalf("got RecordSize %d, want %d for %s", got, want, b)
		}
	})
}
