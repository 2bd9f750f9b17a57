package window_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/esmkit/esmkit/window"
)

// t0 is the start of the 120 s window of Lambda's example event.
var t0 = time.Date(2020, 12, 9, 7, 4, 0, 0, time.UTC)

const (
	shardID   = "shardId-000000000006"
	streamARN = "arn:aws:kinesis:us-east-1:123456789012:stream/lambda-stream"
)

// at returns t0 + d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// rec returns a record with sequence number seq that arrived at arrival.
func rec(seq int, arrival time.Time) events.KinesisEventRecord {
	s := strconv.Itoa(seq)
	return events.KinesisEventRecord{
		AwsRegion:      "us-east-1",
		EventID:        shardID + ":" + s,
		EventName:      "aws:kinesis:record",
		EventSource:    "aws:kinesis",
		EventSourceArn: streamARN,
		EventVersion:   "1.0",
		Kinesis: events.KinesisRecord{
			ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: arrival},
			Data:                        []byte(s),
			PartitionKey:                "pk",
			SequenceNumber:              s,
			KinesisSchemaVersion:        "1.0",
		},
	}
}

// recs returns records with sequence numbers 1, 2, … arriving at the
// given times.
func recs(arrivals ...time.Time) []events.KinesisEventRecord {
	rs := make([]events.KinesisEventRecord, len(arrivals))
	for i, a := range arrivals {
		rs[i] = rec(i+1, a)
	}
	return rs
}

func newTracker(t testing.TB, cfg window.Config) *window.Tracker {
	t.Helper()
	tr, err := window.NewTracker(cfg, shardID, streamARN)
	if err != nil {
		t.Fatalf("NewTracker(%+v): %v", cfg, err)
	}
	return tr
}

// cut calls tr.Cut on rs.
func cut(tr *window.Tracker, rs []events.KinesisEventRecord) (take int, closeFirst bool) {
	return tr.Cut(len(rs), func(i int) time.Time { return rs[i].Kinesis.ApproximateArrivalTimestamp.Time })
}

// succeed runs Next(rs) and Succeeded(state), failing t on an error, and
// returns the event.
func succeed(t testing.TB, tr *window.Tracker, rs []events.KinesisEventRecord, state string) window.Event {
	t.Helper()
	ev := tr.Next(rs)
	if err := tr.Succeeded([]byte(state)); err != nil {
		t.Fatalf("Succeeded(%s): %v", state, err)
	}
	return ev
}
