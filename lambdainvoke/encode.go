package lambdainvoke

import (
	"encoding/json"

	"github.com/aws/aws-lambda-go/events"
)

// Encode returns the JSON Lambda sends for ev: the same keys and values as
// json.Marshal(ev), in the order of Lambda's events (spec §5.3 and
// aws-lambda-go's events/testdata/kinesis-event.json), and therefore the
// same length, which esm's batcher has counted. encryptionType, which
// Lambda's examples lack, is last and only present when set. Encode is the
// default [Encoder] and is safe for concurrent use.
func Encode(ev *events.KinesisEvent) ([]byte, error) {
	w := wireEvent{}
	if ev.Records != nil {
		w.Records = make([]wireRecord, len(ev.Records))
	}
	for i := range ev.Records {
		r, k := &ev.Records[i], &ev.Records[i].Kinesis
		w.Records[i] = wireRecord{
			Kinesis: wireKinesis{
				KinesisSchemaVersion:        k.KinesisSchemaVersion,
				PartitionKey:                k.PartitionKey,
				SequenceNumber:              k.SequenceNumber,
				Data:                        k.Data,
				ApproximateArrivalTimestamp: k.ApproximateArrivalTimestamp,
				EncryptionType:              k.EncryptionType,
			},
			EventSource:       r.EventSource,
			EventVersion:      r.EventVersion,
			EventID:           r.EventID,
			EventName:         r.EventName,
			InvokeIdentityARN: r.InvokeIdentityArn,
			AwsRegion:         r.AwsRegion,
			EventSourceARN:    r.EventSourceArn,
		}
	}
	return json.Marshal(&w)
}

// The wire types mirror events.KinesisEvent field for field with the same
// tags; only the field order differs, which is the order encoding/json
// writes keys in.
type wireEvent struct {
	Records []wireRecord `json:"Records"`
}

type wireRecord struct {
	Kinesis           wireKinesis `json:"kinesis"`
	EventSource       string      `json:"eventSource"`
	EventVersion      string      `json:"eventVersion"`
	EventID           string      `json:"eventID"`
	EventName         string      `json:"eventName"`
	InvokeIdentityARN string      `json:"invokeIdentityArn"`
	AwsRegion         string      `json:"awsRegion"`
	EventSourceARN    string      `json:"eventSourceARN"`
}

type wireKinesis struct {
	KinesisSchemaVersion        string                  `json:"kinesisSchemaVersion"`
	PartitionKey                string                  `json:"partitionKey"`
	SequenceNumber              string                  `json:"sequenceNumber"`
	Data                        []byte                  `json:"data"`
	ApproximateArrivalTimestamp events.SecondsEpochTime `json:"approximateArrivalTimestamp"`
	EncryptionType              string                  `json:"encryptionType,omitempty"`
}
