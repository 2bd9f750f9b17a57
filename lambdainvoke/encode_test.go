package lambdainvoke_test

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/esmkit/esmkit/lambdainvoke"
)

// record is one event record as esm builds it.
func record(shardID, seq, key string, data []byte, arrival time.Time) events.KinesisEventRecord {
	return events.KinesisEventRecord{
		AwsRegion:         "us-east-2",
		EventID:           shardID + ":" + seq,
		EventName:         "aws:kinesis:record",
		EventSource:       "aws:kinesis",
		EventSourceArn:    "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream",
		EventVersion:      "1.0",
		InvokeIdentityArn: "arn:aws:iam::123456789012:role/lambda-role",
		Kinesis: events.KinesisRecord{
			ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: arrival},
			Data:                        data,
			PartitionKey:                key,
			SequenceNumber:              seq,
			KinesisSchemaVersion:        "1.0",
		},
	}
}

// TestEncodeGolden checks that the event is byte for byte the example
// event of spec §5.3 (testdata/kinesis-event.json, compacted).
func TestEncodeGolden(t *testing.T) {
	want, err := os.ReadFile("testdata/kinesis-event.json")
	if err != nil {
		t.Fatal(err)
	}
	ev := events.KinesisEvent{Records: []events.KinesisEventRecord{record(
		"shardId-000000000006", "49590338271490256608559692538361571095921575989136588898", "1",
		[]byte("Hello, this is a test."), time.UnixMilli(1545084650987))}}
	got, err := lambdainvoke.Encode(&ev)
	if err != nil {
		t.Fatal(err)
	}
	if want = bytes.TrimSpace(want); !bytes.Equal(got, want) {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestEncodeMatchesMarshal checks that Encode differs from json.Marshal in
// key order only: same length (which esm's batcher counts) and same
// document.
func TestEncodeMatchesMarshal(t *testing.T) {
	arrival := time.Date(2026, 1, 2, 3, 4, 5, 678_000_000, time.UTC)
	tricky := record("shardId-000000000001", "49590338271490256608559692538361571095921575989136588899",
		"<key & \"quoted\" \u2028 \xff>", []byte{0, 1, 2, 0xff, '<'}, arrival)
	tricky.Kinesis.EncryptionType = "KMS"
	tricky.InvokeIdentityArn = ""
	tests := []struct {
		name string
		ev   events.KinesisEvent
	}{
		{"nil records", events.KinesisEvent{}},
		{"no records", events.KinesisEvent{Records: []events.KinesisEventRecord{}}},
		{"one record", events.KinesisEvent{Records: []events.KinesisEventRecord{record("shardId-000000000000", "1", "k", []byte("{}"), arrival)}}},
		{"escaping, invalid UTF-8, KMS, empty role", events.KinesisEvent{Records: []events.KinesisEventRecord{tricky, tricky}}},
		{"empty data and zero time", events.KinesisEvent{Records: []events.KinesisEventRecord{record("shardId-000000000000", "2", "", nil, time.Time{})}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := lambdainvoke.Encode(&tc.ev)
			if err != nil {
				t.Fatal(err)
			}
			want, err := json.Marshal(tc.ev)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Errorf("got %d bytes, want %d (json.Marshal)", len(got), len(want))
			}
			var g, w any
			if err := json.Unmarshal(got, &g); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(want, &w); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}
