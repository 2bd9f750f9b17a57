package destination_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/esmkit/esmkit/destination"
)

// compactFile returns the JSON in testdata/name without insignificant
// whitespace. json.Compact keeps key order and string escapes as written,
// so the comparison below is byte for byte on everything else.
func compactFile(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return buf.Bytes()
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// awsRecordExample is the invocation record of AWS's SQS/SNS example
// (testdata/kinesis-record-sqs-sns.json, from the Lambda Developer Guide).
func awsRecordExample(t *testing.T) *destination.Invocation {
	return &destination.Invocation{
		RequestID:                       "c9b8fa9f-5a7f-xmpl-af9c-0c604cde93a5",
		FunctionARN:                     "arn:aws:lambda:us-east-2:123456789012:function:myfunction",
		Condition:                       destination.RetryAttemptsExhausted,
		ApproximateInvokeCount:          1,
		StatusCode:                      200,
		ExecutedVersion:                 "$LATEST",
		FunctionError:                   "Unhandled",
		Timestamp:                       mustTime(t, "2019-11-14T00:38:06.021Z"),
		ShardID:                         "shardId-000000000001",
		StartSequenceNumber:             "49601189658422359378836298521827638475320189012309704722",
		EndSequenceNumber:               "49601189658422359378836298522902373528957594348623495186",
		ApproximateArrivalOfFirstRecord: mustTime(t, "2019-11-14T00:38:04.835Z"),
		ApproximateArrivalOfLastRecord:  mustTime(t, "2019-11-14T00:38:05.580Z"),
		BatchSize:                       500,
		StreamARN:                       "arn:aws:kinesis:us-east-2:123456789012:stream/mystream",
	}
}

// awsObjectExample is the invocation record of AWS's S3 example
// (testdata/kinesis-record-s3.json): one record, three invocations.
func awsObjectExample(t *testing.T) *destination.Invocation {
	inv := awsRecordExample(t)
	inv.ApproximateInvokeCount = 3
	inv.EndSequenceNumber = inv.StartSequenceNumber
	inv.ApproximateArrivalOfLastRecord = inv.ApproximateArrivalOfFirstRecord
	inv.BatchSize = 1
	inv.MappingUUID = "a1b2c3d4-5678-90ab-cdef-11111EXAMPLE"
	inv.Event = events.KinesisEvent{Records: []events.KinesisEventRecord{{
		AwsRegion:         "us-east-2",
		EventID:           "shardId-000000000001:49601189658422359378836298521827638475320189012309704722",
		EventName:         "aws:kinesis:record",
		EventSource:       "aws:kinesis",
		EventSourceArn:    "arn:aws:kinesis:us-east-2:123456789012:stream/mystream",
		EventVersion:      "1.0",
		InvokeIdentityArn: "arn:aws:iam::123456789012:role/lambda-role",
		Kinesis: events.KinesisRecord{
			ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: time.UnixMilli(1573691884835)},
			Data:                        []byte("Hello"),
			PartitionKey:                "1",
			SequenceNumber:              "49601189658422359378836298521827638475320189012309704722",
			KinesisSchemaVersion:        "1.0",
		},
	}}}
	return inv
}

// TestGolden checks the documents byte for byte (after removing the
// indentation of AWS's examples) against the examples in the Lambda
// Developer Guide: field names, nesting, key order, the timestamp format,
// and for S3 the payload string, whose inner key order is Lambda's.
func TestGolden(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		inv     func(*testing.T) *destination.Invocation
		marshal func(*destination.Invocation) ([]byte, error)
	}{
		{"SQS and SNS", "kinesis-record-sqs-sns.json", awsRecordExample, destination.MarshalRecord},
		{"S3", "kinesis-record-s3.json", awsObjectExample, destination.MarshalObject},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := compactFile(t, tc.file)
			got, err := tc.marshal(tc.inv(t))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}

			// Unmarshal of AWS's document gives back the same Invocation.
			inv, err := destination.Unmarshal(want)
			if err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			inv.MappingUUID = tc.inv(t).MappingUUID
			again, err := tc.marshal(inv)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, want) {
				t.Errorf("Marshal(Unmarshal(golden)):\ngot  %s\nwant %s", again, want)
			}
		})
	}
}

// TestMarshalRecordHasNoData checks that the SQS/SNS document carries no
// record data even when Event is set.
func TestMarshalRecordHasNoData(t *testing.T) {
	got, err := destination.MarshalRecord(awsObjectExample(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"payload", "SGVsbG8", "Records"} {
		if bytes.Contains(got, []byte(s)) {
			t.Errorf("got %s, want no %q", got, s)
		}
	}
}

func TestMarshalFields(t *testing.T) {
	tests := []struct {
		name   string
		change func(*destination.Invocation)
		object bool
		want   []string // substrings of the document
	}{
		{
			name:   "empty FunctionError is null",
			change: func(inv *destination.Invocation) { inv.FunctionError = "" },
			want:   []string{`"responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":null}`},
		},
		{
			name: "RecordAgeExceeded before any invocation",
			change: func(inv *destination.Invocation) {
				inv.Condition, inv.ApproximateInvokeCount = destination.RecordAgeExceeded, 0
			},
			want: []string{`"condition":"RecordAgeExceeded","approximateInvokeCount":0}`},
		},
		{
			name: "times in UTC, truncated to milliseconds",
			change: func(inv *destination.Invocation) {
				east := time.FixedZone("UTC+5", 5*3600)
				inv.Timestamp = time.Date(2024, 3, 1, 4, 30, 0, 999_999_999, east)
				inv.ApproximateArrivalOfFirstRecord = time.Date(2024, 2, 29, 23, 59, 59, 1_500_000, time.UTC)
				inv.ApproximateArrivalOfLastRecord = time.Date(2024, 3, 1, 0, 0, 0, 0, east)
			},
			want: []string{
				`"timestamp":"2024-02-29T23:30:00.999Z"`,
				`"approximateArrivalOfFirstRecord":"2024-02-29T23:59:59.001Z"`,
				`"approximateArrivalOfLastRecord":"2024-02-29T19:00:00.000Z"`,
			},
		},
		{
			name: "no HTML escaping in the payload",
			change: func(inv *destination.Invocation) {
				inv.Event.Records[0].Kinesis.PartitionKey = `a<b>&"c"`
			},
			object: true,
			want:   []string{`\"partitionKey\":\"a<b>&\\\"c\\\"\"`},
		},
		{
			name:   "nil Data is an empty string",
			change: func(inv *destination.Invocation) { inv.Event.Records[0].Kinesis.Data = nil },
			object: true,
			want:   []string{`\"data\":\"\",`},
		},
		{
			name:   "nil Records is an empty array",
			change: func(inv *destination.Invocation) { inv.Event.Records = nil },
			object: true,
			want:   []string{`"payload":"{\"Records\":[]}"}`},
		},
		{
			name: "encryptionType last in kinesis when set",
			change: func(inv *destination.Invocation) {
				inv.Event.Records[0].Kinesis.EncryptionType = "KMS"
			},
			object: true,
			want:   []string{`\"approximateArrivalTimestamp\":1573691884.835,\"encryptionType\":\"KMS\"},`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inv := awsObjectExample(t)
			tc.change(inv)
			marshal := destination.MarshalRecord
			if tc.object {
				marshal = destination.MarshalObject
			}
			got, err := marshal(inv)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !bytes.Contains(got, []byte(w)) {
					t.Errorf("got %s\nwant it to contain %s", got, w)
				}
			}
			if _, err := destination.Unmarshal(got); err != nil {
				t.Errorf("Unmarshal: %v", err)
			}
		})
	}
}

func TestMarshalInvalid(t *testing.T) {
	tests := []struct {
		name   string
		change func(*destination.Invocation)
		// objectOnly: valid for MarshalRecord, invalid for MarshalObject.
		objectOnly bool
	}{
		{name: "empty Condition", change: func(inv *destination.Invocation) { inv.Condition = "" }},
		{name: "empty ShardID", change: func(inv *destination.Invocation) { inv.ShardID = "" }},
		{name: "ShardID with a slash", change: func(inv *destination.Invocation) { inv.ShardID = "shardId/1" }},
		{name: "empty StreamARN", change: func(inv *destination.Invocation) { inv.StreamARN = "" }},
		{name: "empty StartSequenceNumber", change: func(inv *destination.Invocation) { inv.StartSequenceNumber = "" }},
		{name: "non-decimal EndSequenceNumber", change: func(inv *destination.Invocation) { inv.EndSequenceNumber = "12a" }},
		{name: "end before start", change: func(inv *destination.Invocation) { inv.StartSequenceNumber, inv.EndSequenceNumber = "20", "3" }},
		{name: "zero first arrival", change: func(inv *destination.Invocation) { inv.ApproximateArrivalOfFirstRecord = time.Time{} }},
		{name: "zero last arrival", change: func(inv *destination.Invocation) { inv.ApproximateArrivalOfLastRecord = time.Time{} }},
		{name: "zero Timestamp", change: func(inv *destination.Invocation) { inv.Timestamp = time.Time{} }},
		{name: "BatchSize 0", change: func(inv *destination.Invocation) { inv.BatchSize = 0 }},
		{name: "negative ApproximateInvokeCount", change: func(inv *destination.Invocation) { inv.ApproximateInvokeCount = -1 }},
		{name: "invalid UTF-8", change: func(inv *destination.Invocation) { inv.FunctionARN = "arn:\xff" }},
		{name: "empty MappingUUID", change: func(inv *destination.Invocation) { inv.MappingUUID = "" }, objectOnly: true},
		{name: "MappingUUID with a slash", change: func(inv *destination.Invocation) { inv.MappingUUID = "a/b" }, objectOnly: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inv := awsObjectExample(t)
			tc.change(inv)
			_, err := destination.MarshalRecord(inv)
			if tc.objectOnly {
				if err != nil {
					t.Errorf("MarshalRecord: got %v, want nil", err)
				}
			} else if !errors.Is(err, destination.ErrInvalidInvocation) {
				t.Errorf("MarshalRecord: got %v, want ErrInvalidInvocation", err)
			}
			if _, err := destination.MarshalObject(inv); !errors.Is(err, destination.ErrInvalidInvocation) {
				t.Errorf("MarshalObject: got %v, want ErrInvalidInvocation", err)
			}
		})
	}
	if _, err := destination.MarshalRecord(nil); !errors.Is(err, destination.ErrInvalidInvocation) {
		t.Errorf("MarshalRecord(nil): got %v, want ErrInvalidInvocation", err)
	}
}

func TestUnmarshalInvalid(t *testing.T) {
	valid := string(compactFile(t, "kinesis-record-sqs-sns.json"))
	tests := []struct {
		name string
		body string
	}{
		{"empty", ""},
		{"not JSON", "hello"},
		{"SNS envelope", `{"Type":"Notification","Message":` + jsonString(valid) + `}`},
		{"wrong version", strings.Replace(valid, `"version":"1.0"`, `"version":"2.0"`, 1)},
		{"bad timestamp", strings.Replace(valid, `"2019-11-14T00:38:06.021Z"`, `"yesterday"`, 1)},
		{"missing shard", strings.Replace(valid, `"shardId":"shardId-000000000001",`, ``, 1)},
		{"payload not an event", strings.Replace(valid, `}}`, `},"payload":"[1]"}`, 1)},
		{"zero timestamp", strings.Replace(valid, `"2019-11-14T00:38:06.021Z"`, `"0001-01-01T00:00:00.000Z"`, 1)},
		{"arrival before 1970 in payload", strings.Replace(string(compactFile(t, "kinesis-record-s3.json")), `1573691884.835`, `-1.5`, 1)},
		{"arrival after 2255 in payload", strings.Replace(string(compactFile(t, "kinesis-record-s3.json")), `1573691884.835`, `9e9`, 1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := destination.Unmarshal([]byte(tc.body)); !errors.Is(err, destination.ErrInvalidInvocation) {
				t.Errorf("got %v, want ErrInvalidInvocation", err)
			}
		})
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestFuncSeesStoredRecord checks that a Func gets what an S3 consumer
// would read: the record, the event and the mapping UUID from the key.
func TestFuncSeesStoredRecord(t *testing.T) {
	var got *destination.Invocation
	dst, err := destination.New(destination.Func(func(_ context.Context, inv *destination.Invocation) error {
		got = inv
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	want := awsObjectExample(t)
	if err := dst.Send(t.Context(), want); err != nil {
		t.Fatal(err)
	}
	if got == nil {
		t.Fatal("Func not called")
	}
	if got.MappingUUID != want.MappingUUID {
		t.Errorf("got MappingUUID %q, want %q", got.MappingUUID, want.MappingUUID)
	}
	if len(got.Event.Records) != 1 || string(got.Event.Records[0].Kinesis.Data) != "Hello" ||
		!got.Event.Records[0].Kinesis.ApproximateArrivalTimestamp.Equal(want.Event.Records[0].Kinesis.ApproximateArrivalTimestamp.Time) {
		t.Errorf("got event %+v, want %+v", got.Event, want.Event)
	}
	gotDoc, _ := destination.MarshalObject(got)
	wantDoc, _ := destination.MarshalObject(want)
	if !bytes.Equal(gotDoc, wantDoc) {
		t.Errorf("got\n%s\nwant\n%s", gotDoc, wantDoc)
	}
}
