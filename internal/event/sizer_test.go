package event_test

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/esmkit/esmkit/internal/event"
)

// checkSizer converts r from src and asserts that the Sizer, RecordSize and
// json.Marshal agree.
func checkSizer(t *testing.T, src *event.Source, r *types.Record) {
	t.Helper()
	var rec events.KinesisEventRecord
	event.Convert(&rec, src, r)
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := event.NewSizer(src).Size(&rec), len(b); got != want {
		t.Fatalf("Sizer.Size: got %d, want %d for %s", got, want, b)
	}
	if got, want := event.RecordSize(&rec), len(b); got != want {
		t.Fatalf("RecordSize: got %d, want %d for %s", got, want, b)
	}
}

func TestSizerRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 0x5eed))
	for range 3000 {
		src := &event.Source{
			StreamARN:         randARN(rng),
			Region:            randString(rng, 15),
			InvokeIdentityARN: randString(rng, 40),
			ShardID:           randString(rng, 25),
		}
		ts := randTime(rng)
		seq, key := randString(rng, 60), randString(rng, 256)
		r := &types.Record{SequenceNumber: &seq, PartitionKey: &key, ApproximateArrivalTimestamp: &ts, Data: randData(rng)}
		if rng.IntN(4) == 0 {
			r.EncryptionType = types.EncryptionType([]string{"KMS", "NONE", randString(rng, 5)}[rng.IntN(3)])
		}
		checkSizer(t, src, r)
	}
}

// FuzzSizer checks that a Sizer measures converted records exactly as
// json.Marshal does, whatever the source and record strings.
func FuzzSizer(f *testing.F) {
	f.Add("arn:aws:kinesis:us-east-2:123456789012:stream/s", "us-east-2", "", "shardId-000000000006", "4959", "1", []byte("x"), "", int64(1545084650987))
	f.Add("<&>", "\u2028", "\xff", "sh\xe2\x80", "\"\\", "\x00", []byte(nil), "KMS", int64(-1))
	f.Fuzz(func(t *testing.T, arn, region, role, shardID, seq, key string, data []byte, enc string, ms int64) {
		ts := time.UnixMilli(ms)
		r := &types.Record{SequenceNumber: &seq, PartitionKey: &key, ApproximateArrivalTimestamp: &ts, Data: data, EncryptionType: types.EncryptionType(enc)}
		checkSizer(t, &event.Source{StreamARN: arn, Region: region, InvokeIdentityARN: role, ShardID: shardID}, r)
	})
}
