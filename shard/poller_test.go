package shard_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/esmkit/esmkit/shard"
)

// step is one scripted GetRecords answer.
type step struct {
	n      int   // records to return
	behind int64 // MillisBehindLatest
	err    error
	end    bool // no NextShardIterator
}

// scripted is a one-shard Kinesis that answers GetRecords from a script and
// records what it was asked.
type scripted struct {
	shard.Client
	steps     []step
	next      int // next sequence number to hand out
	iterators []string
	positions []string // GetShardIterator calls, as "TYPE seq"
	callTimes []time.Time
}

func (s *scripted) GetShardIterator(_ context.Context, in *kinesis.GetShardIteratorInput, _ ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error) {
	s.positions = append(s.positions, fmt.Sprintf("%s %s", in.ShardIteratorType, aws.ToString(in.StartingSequenceNumber)))
	return &kinesis.GetShardIteratorOutput{ShardIterator: aws.String(fmt.Sprintf("it-%d", len(s.positions)))}, nil
}

func (s *scripted) GetRecords(_ context.Context, in *kinesis.GetRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error) {
	s.iterators = append(s.iterators, aws.ToString(in.ShardIterator))
	s.callTimes = append(s.callTimes, time.Now())
	if len(s.steps) == 0 {
		return &kinesis.GetRecordsOutput{NextShardIterator: in.ShardIterator, MillisBehindLatest: aws.Int64(0)}, nil
	}
	st := s.steps[0]
	s.steps = s.steps[1:]
	if st.err != nil {
		return nil, st.err
	}
	out := &kinesis.GetRecordsOutput{MillisBehindLatest: aws.Int64(st.behind)}
	for range st.n {
		s.next++
		out.Records = append(out.Records, types.Record{SequenceNumber: aws.String(fmt.Sprint(s.next)), Data: []byte("x"), PartitionKey: aws.String("k")})
	}
	if !st.end {
		out.NextShardIterator = aws.String(aws.ToString(in.ShardIterator) + "+")
	}
	return out, nil
}

func newPoller(s *scripted, limit int32) *shard.Poller {
	return shard.NewPoller(shard.PollerConfig{
		Client:       s,
		Stream:       shard.Stream{ARN: "arn:aws:kinesis:us-east-1:123456789012:stream/s", Name: "s"},
		ShardID:      "shardId-000000000000",
		Start:        shard.Position{Type: types.ShardIteratorTypeTrimHorizon},
		Limit:        limit,
		PollInterval: time.Second,
	})
}

func TestPollerReseeksAfterLastRecordOnExpiredIterator(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &scripted{steps: []step{{n: 3}, {err: &types.ExpiredIteratorException{Message: aws.String("expired")}}, {n: 2}}}
		p := newPoller(s, 100)
		var seqs []string
		for range 2 {
			page, err := p.Next(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page.Records {
				seqs = append(seqs, *r.SequenceNumber)
			}
		}
		if got, want := fmt.Sprint(seqs), "[1 2 3 4 5]"; got != want {
			t.Errorf("sequence numbers: got %s, want %s", got, want)
		}
		if got, want := fmt.Sprint(s.positions), "[TRIM_HORIZON  AFTER_SEQUENCE_NUMBER 3]"; got != want {
			t.Errorf("GetShardIterator positions: got %s, want %s", got, want)
		}
	})
}

func TestPollerRetriesSameIteratorOnTransientErrors(t *testing.T) {
	transient := []error{
		&types.ProvisionedThroughputExceededException{Message: aws.String("slow down")},
		&types.LimitExceededException{Message: aws.String("limit")},
		errors.New("read tcp: use of closed network connection"),
	}
	for _, e := range transient {
		t.Run(fmt.Sprintf("%T", e), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := &scripted{steps: []step{{n: 1}, {err: e}, {err: e}, {n: 1}}}
				p := newPoller(s, 1)
				start := time.Now()
				for range 2 {
					if _, err := p.Next(t.Context()); err != nil {
						t.Fatal(err)
					}
				}
				// Calls 2-4 use the iterator the first call returned.
				if got, want := fmt.Sprint(s.iterators), "[it-1 it-1+ it-1+ it-1+]"; got != want {
					t.Errorf("iterators: got %s, want %s", got, want)
				}
				if len(s.positions) != 1 {
					t.Errorf("GetShardIterator calls: got %d, want 1", len(s.positions))
				}
				// Two backoffs of at least 0.5 s and 1 s.
				if el := time.Since(start); el < 1500*time.Millisecond {
					t.Errorf("elapsed %v, want at least 1.5s of backoff", el)
				}
			})
		})
	}
}

func TestPollerPacing(t *testing.T) {
	tests := []struct {
		name string
		step step
		want time.Duration // gap before the next call
	}{
		{"caught up waits the poll interval", step{n: 5}, time.Second},
		{"full page polls again at the rate floor", step{n: 10}, 200 * time.Millisecond},
		{"behind polls again at the rate floor", step{n: 5, behind: 1500}, 200 * time.Millisecond},
		{"empty caught-up page waits", step{n: 0}, time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := &scripted{steps: []step{tc.step, {n: 1}}}
				p := newPoller(s, 10)
				for range 2 {
					if _, err := p.Next(t.Context()); err != nil {
						t.Fatal(err)
					}
				}
				if got := s.callTimes[1].Sub(s.callTimes[0]); got != tc.want {
					t.Errorf("gap between calls: got %v, want %v", got, tc.want)
				}
			})
		})
	}
}

func TestPollerEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &scripted{steps: []step{{n: 2, end: true}}}
		p := newPoller(s, 10)
		page, err := p.Next(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if !page.End || len(page.Records) != 2 {
			t.Fatalf("got End=%v with %d records, want End with 2", page.End, len(page.Records))
		}
		page, err = p.Next(t.Context())
		if err != nil || !page.End {
			t.Fatalf("after the end: got %+v, %v; want an End page", page, err)
		}
		if len(s.iterators) != 1 {
			t.Errorf("GetRecords calls: got %d, want 1", len(s.iterators))
		}
	})
}

func TestPollerStopsOnContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &scripted{steps: []step{{err: &types.ProvisionedThroughputExceededException{}}}}
		p := newPoller(s, 10)
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		if _, err := p.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("got %v, want context.DeadlineExceeded", err)
		}
	})
}
