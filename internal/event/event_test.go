package event_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/esmkit/esmkit/internal/event"
)

func ptr[T any](v T) *T { return &v }

// documentedSource and documentedRecord are Lambda's documented example
// (spec §5.3), whose event is testdata/kinesis-event.json.
var documentedSource = event.Source{
	StreamARN:         "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream",
	Region:            "us-east-2",
	InvokeIdentityARN: "arn:aws:iam::123456789012:role/lambda-role",
	ShardID:           "shardId-000000000006",
}

func documentedRecord() types.Record {
	return types.Record{
		Data:                        []byte("Hello, this is a test."),
		SequenceNumber:              ptr("49590338271490256608559692538361571095921575989136588898"),
		ApproximateArrivalTimestamp: ptr(time.Unix(1545084650, 987_000_000)),
		PartitionKey:                ptr("1"),
	}
}

// decode unmarshals JSON keeping numbers as their text, so the timestamp is
// compared digit for digit rather than as a float.
func decode(t *testing.T, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

func TestConvertGolden(t *testing.T) {
	want, err := os.ReadFile("testdata/kinesis-event.json")
	if err != nil {
		t.Fatal(err)
	}
	rec := documentedRecord()
	var er events.KinesisEventRecord
	event.Convert(&er, &documentedSource, &rec)
	got, err := json.Marshal(events.KinesisEvent{Records: []events.KinesisEventRecord{er}})
	if err != nil {
		t.Fatal(err)
	}
	if g, w := decode(t, got), decode(t, want); !reflect.DeepEqual(g, w) {
		t.Errorf("got event\n%s\nwant\n%s", got, want)
	}
	if g, w := event.EventSize(1, event.RecordSize(&er)), len(got); g != w {
		t.Errorf("got EventSize %d, want %d", g, w)
	}
	// The golden file must also unmarshal into the same record.
	var back events.KinesisEvent
	if err := json.Unmarshal(want, &back); err != nil {
		t.Fatal(err)
	}
	if g, w := back.Records[0].EventID, er.EventID; g != w {
		t.Errorf("got eventID %q, want %q", g, w)
	}
}

func TestConvert(t *testing.T) {
	src := documentedSource
	tests := []struct {
		name    string
		rec     types.Record
		wantKey string
		wantSeq string
		wantEnc string
		wantTS  time.Time
	}{
		{
			name:    "documented",
			rec:     documentedRecord(),
			wantKey: "1",
			wantSeq: "49590338271490256608559692538361571095921575989136588898",
			wantTS:  time.Unix(1545084650, 987_000_000),
		},
		{
			name:    "KMS kept",
			rec:     types.Record{SequenceNumber: ptr("1"), PartitionKey: ptr("k"), EncryptionType: types.EncryptionTypeKms},
			wantKey: "k",
			wantSeq: "1",
			wantEnc: "KMS",
		},
		{
			name:    "NONE omitted",
			rec:     types.Record{SequenceNumber: ptr("2"), PartitionKey: ptr("k"), EncryptionType: types.EncryptionTypeNone},
			wantKey: "k",
			wantSeq: "2",
		},
		{
			name: "nil pointers",
			rec:  types.Record{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// A reused dst must be fully overwritten.
			dst := events.KinesisEventRecord{Kinesis: events.KinesisRecord{EncryptionType: "stale"}}
			event.Convert(&dst, &src, &tc.rec)
			want := events.KinesisEventRecord{
				AwsRegion:         "us-east-2",
				EventID:           "shardId-000000000006:" + tc.wantSeq,
				EventName:         "aws:kinesis:record",
				EventSource:       "aws:kinesis",
				EventSourceArn:    src.StreamARN,
				EventVersion:      "1.0",
				InvokeIdentityArn: src.InvokeIdentityARN,
				Kinesis: events.KinesisRecord{
					ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: tc.wantTS},
					Data:                        tc.rec.Data,
					EncryptionType:              tc.wantEnc,
					PartitionKey:                tc.wantKey,
					SequenceNumber:              tc.wantSeq,
					KinesisSchemaVersion:        "1.0",
				},
			}
			if !reflect.DeepEqual(dst, want) {
				t.Errorf("got %+v, want %+v", dst, want)
			}
			b, err := json.Marshal(dst)
			if err != nil {
				t.Fatal(err)
			}
			if got := bytes.Contains(b, []byte(`"encryptionType"`)); got != (tc.wantEnc != "") {
				t.Errorf("got encryptionType present %v in %s, want %v", got, b, tc.wantEnc != "")
			}
			if g, w := event.RecordSize(&dst), len(b); g != w {
				t.Errorf("got RecordSize %d, want %d", g, w)
			}
		})
	}
}

func TestConvertSharesData(t *testing.T) {
	rec := documentedRecord()
	var dst events.KinesisEventRecord
	event.Convert(&dst, &documentedSource, &rec)
	if &dst.Kinesis.Data[0] != &rec.Data[0] {
		t.Error("got a copy of Data, want the SDK record's slice")
	}
}

func TestConvertAllocs(t *testing.T) {
	rec := documentedRecord()
	var dst events.KinesisEventRecord
	if got := testing.AllocsPerRun(100, func() { event.Convert(&dst, &documentedSource, &rec) }); got > 1 {
		t.Errorf("got %v allocs per Convert, want ≤ 1", got)
	}
	if got := testing.AllocsPerRun(100, func() { _ = event.RecordSize(&dst) }); got != 0 {
		t.Errorf("got %v allocs per RecordSize, want 0", got)
	}
}

func TestARN(t *testing.T) {
	tests := []struct {
		arn        string
		wantRegion string
		wantName   string
		wantErr    bool
	}{
		{arn: "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream", wantRegion: "us-east-2", wantName: "lambda-stream"},
		{arn: "arn:aws-cn:kinesis:cn-north-1:123456789012:stream/s", wantRegion: "cn-north-1", wantName: "s"},
		{arn: "arn:aws-us-gov:kinesis:us-gov-west-1:123456789012:stream/My_Stream.v2-x", wantRegion: "us-gov-west-1", wantName: "My_Stream.v2-x"},
		{arn: "arn:aws-iso-b:kinesis:us-isob-east-1:000000000000:stream/s", wantRegion: "us-isob-east-1", wantName: "s"},
		{arn: "", wantErr: true},
		{arn: "lambda-stream", wantErr: true},
		{arn: "arn:aws:sqs:us-east-2:123456789012:stream/s", wantErr: true},
		{arn: "arn::kinesis:us-east-2:123456789012:stream/s", wantErr: true},
		{arn: "arn:aws:kinesis::123456789012:stream/s", wantErr: true},
		{arn: "arn:aws:kinesis:us-east-2::stream/s", wantErr: true},
		{arn: "arn:aws:kinesis:us-east-2:123456789012", wantErr: true},
		{arn: "arn:aws:kinesis:us-east-2:123456789012:stream/", wantErr: true},
		{arn: "arn:aws:kinesis:us-east-2:123456789012:table/s", wantErr: true},
		{arn: "arn:aws:kinesis:us-east-2:123456789012:stream/s/consumer/c:1525898737", wantErr: true},
		{arn: "arn:aws:kinesis:us-east-2:123456789012:stream/bad name", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.arn, func(t *testing.T) {
			region, err := event.RegionFromARN(tc.arn)
			name, err2 := event.StreamNameFromARN(tc.arn)
			if tc.wantErr {
				for _, err := range []error{err, err2} {
					if !errors.Is(err, event.ErrInvalidARN) {
						t.Fatalf("got error %v, want ErrInvalidARN", err)
					}
					if !bytes.Contains([]byte(err.Error()), []byte(`"`+tc.arn+`"`)) {
						t.Errorf("got error %q, want it to name %q", err, tc.arn)
					}
				}
				return
			}
			if err != nil || err2 != nil {
				t.Fatalf("got errors %v, %v, want nil", err, err2)
			}
			if region != tc.wantRegion || name != tc.wantName {
				t.Errorf("got region %q name %q, want %q %q", region, name, tc.wantRegion, tc.wantName)
			}
		})
	}
}

func TestConvertPageMatchesConvert(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	src := &event.Source{StreamARN: "arn:aws:kinesis:us-east-2:123456789012:stream/s", Region: "us-east-2", ShardID: "shardId-000000000006"}
	recs := make([]types.Record, 200)
	for i := range recs {
		ts := randTime(rng)
		seq, key := fmt.Sprint(rng.Uint64()), randString(rng, 20)
		recs[i] = types.Record{SequenceNumber: &seq, PartitionKey: &key, ApproximateArrivalTimestamp: &ts, Data: randData(rng)}
		if i%7 == 0 {
			recs[i].SequenceNumber = nil
		}
		if i%5 == 0 {
			recs[i].PartitionKey = nil
		}
	}
	got := make([]events.KinesisEventRecord, len(recs))
	event.ConvertPage(got, src, recs)
	for i := range recs {
		var want events.KinesisEventRecord
		event.Convert(&want, src, &recs[i])
		if !reflect.DeepEqual(got[i], want) {
			t.Fatalf("record %d: ConvertPage %+v, Convert %+v", i, got[i], want)
		}
	}
	if n := testing.AllocsPerRun(10, func() { event.ConvertPage(got, src, recs) }); n > 1 {
		t.Errorf("ConvertPage allocates %v times per page, want 1", n)
	}
}

// TestConvertPageCopiesStrings checks that the records ConvertPage builds do
// not point into the SDK's per-record strings, which can then be collected
// while the records wait for their batch.
func TestConvertPageCopiesStrings(t *testing.T) {
	src := &event.Source{StreamARN: "arn:aws:kinesis:us-east-2:123456789012:stream/s", Region: "us-east-2", ShardID: "shardId-000000000006"}
	recs := make([]types.Record, 50)
	for i := range recs {
		seq, key := fmt.Sprintf("4959%052d", i), fmt.Sprintf("key-%d", i)
		recs[i] = types.Record{SequenceNumber: &seq, PartitionKey: &key, Data: []byte{byte(i)}}
	}
	got := make([]events.KinesisEventRecord, len(recs))
	event.ConvertPage(got, src, recs)
	for i := range recs {
		k := &got[i].Kinesis
		if k.SequenceNumber != *recs[i].SequenceNumber || k.PartitionKey != *recs[i].PartitionKey {
			t.Fatalf("record %d: sequence %q key %q, want %q %q", i, k.SequenceNumber, k.PartitionKey, *recs[i].SequenceNumber, *recs[i].PartitionKey)
		}
		if unsafe.StringData(k.SequenceNumber) == unsafe.StringData(*recs[i].SequenceNumber) {
			t.Errorf("record %d: sequenceNumber shares the SDK's string", i)
		}
		if unsafe.StringData(k.PartitionKey) == unsafe.StringData(*recs[i].PartitionKey) {
			t.Errorf("record %d: partitionKey shares the SDK's string", i)
		}
		if want := src.ShardID + ":" + k.SequenceNumber; got[i].EventID != want {
			t.Errorf("record %d: eventID %q, want %q", i, got[i].EventID, want)
		}
	}
}
