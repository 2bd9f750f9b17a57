package event_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/esmkit/esmkit/batcher"
	"github.com/esmkit/esmkit/internal/event"
)

// recordBatchSize is how esm measures a batch of event records.
var recordBatchSize = batcher.Size[events.KinesisEventRecord]{
	Item:      func(r *events.KinesisEventRecord) int { return event.RecordSize(r) },
	Envelope:  event.EventEnvelope,
	Separator: event.RecordSeparator,
}

// TestBatchesWithinPayload cuts converted records into batches by Count 100
// and MaxPayload, then checks each batch with json.Marshal: it fits (unless
// it is one record too big on its own), it is as long as it can be, and the
// records stay in order.
func TestBatchesWithinPayload(t *testing.T) {
	tests := []struct {
		name  string
		sizes func(rng *rand.Rand, i int) int // data size of record i
		n     int
		// wantAlone is the number of records over MaxPayload on their own.
		wantAlone int
	}{
		{"1 MiB", func(*rand.Rand, int) int { return 1 << 20 }, 40, 0},
		{"about 1 MiB", func(rng *rand.Rand, _ int) int { return 1<<20 - 512 + rng.IntN(1024) }, 40, 0},
		{"mixed with 5 MiB", func(rng *rand.Rand, i int) int {
			switch {
			case i%17 == 5:
				return 5 << 20 // 6.99 MB as base64: alone in its batch
			case i%3 == 0:
				return rng.IntN(1 << 20)
			}
			return rng.IntN(4 << 10)
		}, 300, 18},
		{"small: count bound", func(rng *rand.Rand, _ int) int { return rng.IntN(1 << 10) }, 1000, 0},
	}
	const count = 100
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, 7))
			src := documentedSource
			recs := make([]events.KinesisEventRecord, tc.n)
			for i := range recs {
				sdk := types.Record{
					Data:                        make([]byte, tc.sizes(rng, i)),
					SequenceNumber:              ptr(strconv.Itoa(1_000_000 + i)),
					PartitionKey:                ptr(fmt.Sprintf("key-<%d>-\u00e9", rng.IntN(50))),
					ApproximateArrivalTimestamp: ptr(time.UnixMilli(1_700_000_000_000 + int64(i))),
				}
				event.Convert(&recs[i], &src, &sdk)
			}

			b, err := batcher.New(batcher.Limits{Count: count, Bytes: event.MaxPayload}, recordBatchSize)
			if err != nil {
				t.Fatal(err)
			}
			now := time.Unix(0, 0)
			var batches [][]events.KinesisEventRecord
			for i := 0; i < len(recs); i += 37 { // pages of 37, as GetRecords might return
				b.Add(now, recs[i:min(i+37, len(recs))]...)
				for b.Ready(now) && b.Len() > count { // keep some read-ahead
					batches = append(batches, b.Take(now))
				}
			}
			for b.Len() > 0 {
				batches = append(batches, b.Take(now))
			}

			next, alone := 0, 0
			for bi, batch := range batches {
				enc, err := json.Marshal(events.KinesisEvent{Records: batch})
				if err != nil {
					t.Fatal(err)
				}
				sum := 0
				for i := range batch {
					sum += event.RecordSize(&batch[i])
					if got, want := batch[i].Kinesis.SequenceNumber, recs[next].Kinesis.SequenceNumber; got != want {
						t.Fatalf("batch %d record %d: got sequence number %s, want %s", bi, i, got, want)
					}
					next++
				}
				if got, want := event.EventSize(len(batch), sum), len(enc); got != want {
					t.Errorf("batch %d: got EventSize %d, want %d", bi, got, want)
				}
				if len(batch) > count {
					t.Errorf("batch %d: got %d records, want ≤ %d", bi, len(batch), count)
				}
				if len(enc) > event.MaxPayload {
					alone++
					if len(batch) > 1 {
						t.Errorf("batch %d: got %d bytes in %d records, want ≤ %d", bi, len(enc), len(batch), event.MaxPayload)
					}
				}
				// Maximal: the following record would have broken a limit.
				if next < len(recs) && len(batch) < count {
					if grown := event.EventSize(len(batch)+1, sum+event.RecordSize(&recs[next])); grown <= event.MaxPayload {
						t.Errorf("batch %d: %d records and %d bytes, but the next record fits (%d bytes)", bi, len(batch), len(enc), grown)
					}
				}
			}
			if tc.wantAlone != alone {
				t.Errorf("got %d batches of one oversized record, want %d", alone, tc.wantAlone)
			}
			if next != len(recs) {
				t.Errorf("got %d records in batches, want %d", next, len(recs))
			}
		})
	}
}
