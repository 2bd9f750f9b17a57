package shard_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/esmkit/esmkit/kinesistest"
	"github.com/esmkit/esmkit/shard"
)

var _ shard.FanOutClient = (*kinesistest.Client)(nil)

const (
	fanOutStream = "fanout"
	shard0       = "shardId-000000000000"
)

// fanOut creates a stream of n shards with an ACTIVE consumer.
func fanOut(t *testing.T, n int, opts ...kinesistest.Option) (*kinesistest.Client, shard.Consumer) {
	t.Helper()
	c := kinesistest.New(opts...)
	arn, err := c.AddStream(fanOutStream, n)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := shard.RegisterConsumer(context.Background(), c, arn, "app")
	if err != nil {
		t.Fatalf("RegisterConsumer: %v", err)
	}
	return c, cons
}

func newSubscriber(c shard.FanOutClient, cons shard.Consumer, shardID string, start shard.Position) *shard.Subscriber {
	return shard.NewSubscriber(shard.SubscriberConfig{
		Client: c, ConsumerARN: cons.ARN, ShardID: shardID, Start: start,
	})
}

var trimHorizon = shard.Position{Type: types.ShardIteratorTypeTrimHorizon}

// readN calls Next until it has n records and returns their sequence
// numbers.
func readN(ctx context.Context, t *testing.T, r shard.Reader, n int) []string {
	t.Helper()
	got, err := readRecords(ctx, r, n)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// readRecords is readN for goroutines other than the test's.
func readRecords(ctx context.Context, r shard.Reader, n int) ([]string, error) {
	var got []string
	for len(got) < n {
		p, err := r.Next(ctx)
		if err != nil {
			return got, fmt.Errorf("Next after %d of %d records: %w", len(got), n, err)
		}
		for _, rec := range p.Records {
			got = append(got, *rec.SequenceNumber)
		}
		if p.End && len(got) < n {
			return got, fmt.Errorf("End after %d of %d records", len(got), n)
		}
	}
	return got, nil
}

func seqs(t *testing.T, c *kinesistest.Client, shardID string) []string {
	t.Helper()
	recs, err := c.Records(fanOutStream, shardID)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = *r.SequenceNumber
	}
	return out
}

// firstDiff describes where got and want part, for a readable failure.
func firstDiff(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("record %d: got %s, want %s", i, got[i], want[i])
		}
	}
	return fmt.Sprintf("got %d records, want %d", len(got), len(want))
}

// TestSubscriberContinuous is checklist item 73: a consumer read for longer
// than five minutes while a producer keeps putting re-subscribes from where
// it was, with no gap, duplicate or reordering, also when subscriptions
// fail or are refused along the way.
func TestSubscriberContinuous(t *testing.T) {
	tests := []struct {
		name string
		// disturb runs at minute 1, 2, … of production.
		disturb func(c *kinesistest.Client, minute int)
	}{
		{"expiry only", func(*kinesistest.Client, int) {}},
		{"failures", func(c *kinesistest.Client, minute int) {
			switch minute % 3 {
			case 0:
				c.EndSubscriptions(&types.InternalFailureException{Message: aws.String("injected")})
			case 1:
				c.EndSubscriptions(nil)
				c.Inject("SubscribeToShard", kinesistest.FirstN(2), kinesistest.LimitExceeded())
			case 2:
				c.EndSubscriptions(&types.ResourceInUseException{Message: aws.String("injected")})
				c.Inject("SubscribeToShard", kinesistest.FirstN(1), kinesistest.InternalFailure())
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c, cons := fanOut(t, 1)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				const minutes = 16
				const perSecond = 10
				done := make(chan struct{})
				go func() {
					defer close(done)
					for i := range minutes * 60 * perSecond {
						if i > 0 && i%(60*perSecond) == 0 {
							tc.disturb(c, i/(60*perSecond))
						}
						if _, _, err := c.Put(ctx, fanOutStream, fmt.Sprint(i%7), []byte(fmt.Sprint(i))); err != nil {
							t.Errorf("Put: %v", err)
							return
						}
						time.Sleep(time.Second / perSecond)
					}
				}()
				sub := newSubscriber(c, cons, shard0, trimHorizon)
				defer sub.Close()
				got := readN(ctx, t, sub, minutes*60*perSecond)
				<-done
				want := seqs(t, c, shard0)
				if !slices.Equal(got, want) {
					t.Errorf("records differ from the shard's: %s", firstDiff(got, want))
				}
				if n := c.Calls("SubscribeToShard"); n < minutes/5+1 {
					t.Errorf("SubscribeToShard called %d times in %d minutes, want at least %d", n, minutes, minutes/5+1)
				}
				if sub.LastSequenceNumber() != want[len(want)-1] {
					t.Errorf("LastSequenceNumber %s, want %s", sub.LastSequenceNumber(), want[len(want)-1])
				}
			})
		})
	}
}

// TestSubscriberBacksOff checks that refused and throttled subscriptions
// are retried after growing, jittered waits, and that the read then goes
// on from the start position.
func TestSubscriberBacksOff(t *testing.T) {
	tests := []struct {
		name string
		err  error
	}{
		{"ResourceInUse", &types.ResourceInUseException{Message: aws.String("injected")}},
		{"LimitExceeded", kinesistest.LimitExceeded()},
		{"Throttling", kinesistest.Throttling()},
		{"InternalFailure", kinesistest.InternalFailure()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c, cons := fanOut(t, 1)
				ctx := context.Background()
				if _, _, err := c.Put(ctx, fanOutStream, "k", []byte("x")); err != nil {
					t.Fatal(err)
				}
				c.Inject("SubscribeToShard", kinesistest.FirstN(4), tc.err)
				start := time.Now()
				sub := newSubscriber(c, cons, shard0, trimHorizon)
				defer sub.Close()
				got := readN(ctx, t, sub, 1)
				// Waits of at least 0.5, 1, 2 and 2.5 s (half of 1, 2, 4, 5).
				if d := time.Since(start); d < 6*time.Second || d > 15*time.Second {
					t.Errorf("first record after %v, want between 6 s and 15 s of backoff", d)
				}
				if n := c.Calls("SubscribeToShard"); n != 5 {
					t.Errorf("SubscribeToShard calls: got %d, want 5", n)
				}
				if !slices.Equal(got, seqs(t, c, shard0)) {
					t.Errorf("got %v, want the shard's record", got)
				}
			})
		})
	}
}

// TestSubscriberResourceInUseAfterFailure: a subscription that fails
// within 5 s of being opened meets Kinesis's own ResourceInUseException on
// the next call, and gets through by backing off.
func TestSubscriberResourceInUseAfterFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, cons := fanOut(t, 1)
		ctx := context.Background()
		sub := newSubscriber(c, cons, shard0, trimHorizon)
		defer sub.Close()
		if _, err := sub.Next(ctx); err != nil { // the first, empty event
			t.Fatal(err)
		}
		c.EndSubscriptions(&types.InternalFailureException{Message: aws.String("injected")})
		if _, _, err := c.Put(ctx, fanOutStream, "k", []byte("x")); err != nil {
			t.Fatal(err)
		}
		got := readN(ctx, t, sub, 1)
		if n := c.Calls("SubscribeToShard"); n < 3 {
			t.Errorf("SubscribeToShard calls: got %d, want at least 3 (one refused as in use)", n)
		}
		if !slices.Equal(got, seqs(t, c, shard0)) {
			t.Errorf("got %v, want the shard's record", got)
		}
	})
}

// TestSubscriberLatestResumesFromContinuation: started at LATEST, with no
// record read yet, a new subscription must start after the continuation,
// not at LATEST again, or records put in between would be lost.
func TestSubscriberLatestResumesFromContinuation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, cons := fanOut(t, 1)
		ctx := context.Background()
		if _, _, err := c.Put(ctx, fanOutStream, "k", []byte("before")); err != nil {
			t.Fatal(err)
		}
		sub := newSubscriber(c, cons, shard0, shard.Position{Type: types.ShardIteratorTypeLatest})
		defer sub.Close()
		if p, err := sub.Next(ctx); err != nil || len(p.Records) != 0 {
			t.Fatalf("first page: %d records, %v; want an empty page", len(p.Records), err)
		}
		c.EndSubscriptions(&types.InternalFailureException{Message: aws.String("injected")})
		_, seq, err := c.Put(ctx, fanOutStream, "k", []byte("between"))
		if err != nil {
			t.Fatal(err)
		}
		if got := readN(ctx, t, sub, 1); !slices.Equal(got, []string{seq}) {
			t.Errorf("got %v, want only the record put between subscriptions, %s", got, seq)
		}
	})
}

func TestSubscriberClosedShard(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, cons := fanOut(t, 1)
		ctx := context.Background()
		for i := range 5 {
			if _, _, err := c.Put(ctx, fanOutStream, "k", []byte(fmt.Sprint(i))); err != nil {
				t.Fatal(err)
			}
		}
		sub := newSubscriber(c, cons, shard0, trimHorizon)
		defer sub.Close()
		got := readN(ctx, t, sub, 2)
		if _, err := c.MergeShards(ctx, &kinesis.MergeShardsInput{
			StreamName: aws.String(fanOutStream), ShardToMerge: aws.String(shard0), AdjacentShardToMerge: aws.String(shard0),
		}); err == nil {
			t.Fatal("merging a shard with itself succeeded")
		}
		if _, err := c.SplitShard(ctx, &kinesis.SplitShardInput{
			StreamName: aws.String(fanOutStream), ShardToSplit: aws.String(shard0),
			NewStartingHashKey: aws.String("170141183460469231731687303715884105728"),
		}); err != nil {
			t.Fatal(err)
		}
		var end shard.Page
		for {
			p, err := sub.Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range p.Records {
				got = append(got, *r.SequenceNumber)
			}
			if p.End {
				end = p
				break
			}
		}
		if want := seqs(t, c, shard0); !slices.Equal(got, want) {
			t.Errorf("records: %s", firstDiff(got, want))
		}
		var ids []string
		for _, ch := range end.ChildShards {
			ids = append(ids, *ch.ShardId)
		}
		if !slices.Equal(ids, []string{"shardId-000000000001", "shardId-000000000002"}) {
			t.Errorf("ChildShards: got %v, want shards 1 and 2", ids)
		}
		calls := c.Calls("SubscribeToShard")
		if p, err := sub.Next(ctx); err != nil || !p.End {
			t.Errorf("Next after End: got %+v, %v; want an End page", p, err)
		}
		if c.Calls("SubscribeToShard") != calls {
			t.Errorf("Next after End called SubscribeToShard")
		}
	})
}

func TestSubscriberContext(t *testing.T) {
	t.Run("while waiting for events", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			c, cons := fanOut(t, 1)
			sub := newSubscriber(c, cons, shard0, trimHorizon)
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(90*time.Second, cancel)
			var err error
			for err == nil {
				_, err = sub.Next(ctx)
			}
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Next: got %v, want context.Canceled", err)
			}
			// Next closed the subscription: nothing is left running,
			// which synctest.Test checks when this function returns.
		})
	})
	t.Run("while backing off", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			c, cons := fanOut(t, 1)
			c.Inject("SubscribeToShard", kinesistest.Every(1), kinesistest.LimitExceeded())
			sub := newSubscriber(c, cons, shard0, trimHorizon)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := sub.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Next: got %v, want context.DeadlineExceeded", err)
			}
		})
	})
	t.Run("per-call contexts", func(t *testing.T) {
		// A ctx that ends after Next returned does not break the
		// subscription that Next opened.
		synctest.Test(t, func(t *testing.T) {
			c, cons := fanOut(t, 1)
			sub := newSubscriber(c, cons, shard0, trimHorizon)
			defer sub.Close()
			for i := range 5 {
				ctx, cancel := context.WithCancel(context.Background())
				if _, err := sub.Next(ctx); err != nil {
					t.Fatalf("Next %d: %v", i, err)
				}
				cancel()
			}
			if n := c.Calls("SubscribeToShard"); n != 1 {
				t.Errorf("SubscribeToShard calls: got %d, want 1", n)
			}
		})
	})
}

func TestSubscriberPermanentErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, cons := fanOut(t, 1)
		ctx := context.Background()
		tests := []struct {
			name    string
			cfg     shard.SubscriberConfig
			wantErr any
		}{
			{"unknown shard", shard.SubscriberConfig{ShardID: "shardId-000000000007", Start: trimHorizon}, new(*types.ResourceNotFoundException)},
			{"unknown consumer", shard.SubscriberConfig{ConsumerARN: cons.ARN + "1", Start: trimHorizon}, new(*types.ResourceNotFoundException)},
			{"bad sequence number", shard.SubscriberConfig{Start: shard.After("1")}, new(*types.InvalidArgumentException)},
		}
		for _, tc := range tests {
			cfg := tc.cfg
			cfg.Client = c
			if cfg.ConsumerARN == "" {
				cfg.ConsumerARN = cons.ARN
			}
			if cfg.ShardID == "" {
				cfg.ShardID = shard0
			}
			_, err := shard.NewSubscriber(cfg).Next(ctx)
			if err == nil || !errors.As(err, tc.wantErr) {
				t.Errorf("%s: got %v, want %T", tc.name, err, tc.wantErr)
			}
		}
	})
}

func TestParseConsumerARN(t *testing.T) {
	tests := []struct {
		arn  string
		want shard.Consumer
		ok   bool
	}{
		{"arn:aws:kinesis:us-east-1:123456789012:stream/orders/consumer/lambda-esm:1700000000",
			shard.Consumer{ARN: "arn:aws:kinesis:us-east-1:123456789012:stream/orders/consumer/lambda-esm:1700000000",
				StreamARN: "arn:aws:kinesis:us-east-1:123456789012:stream/orders", Name: "lambda-esm"}, true},
		{"arn:aws-cn:kinesis:cn-north-1:123456789012:stream/a.b_c-d/consumer/x:1",
			shard.Consumer{ARN: "arn:aws-cn:kinesis:cn-north-1:123456789012:stream/a.b_c-d/consumer/x:1",
				StreamARN: "arn:aws-cn:kinesis:cn-north-1:123456789012:stream/a.b_c-d", Name: "x"}, true},
		{"arn:aws:kinesis:us-east-1:123456789012:stream/orders", shard.Consumer{}, false},
		{"arn:aws:kinesis:us-east-1:123456789012:stream/orders/consumer/x", shard.Consumer{}, false},
		{"arn:aws:kinesis:us-east-1:123456789012:stream/orders/consumer/x:12a", shard.Consumer{}, false},
		{"arn:aws:sqs:us-east-1:123456789012:stream/orders/consumer/x:1", shard.Consumer{}, false},
		{"arn:aws:kinesis:us-east-1::stream/orders/consumer/x:1", shard.Consumer{}, false},
		{"", shard.Consumer{}, false},
	}
	for _, tc := range tests {
		got, err := shard.ParseConsumerARN(tc.arn)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("ParseConsumerARN(%q): got %+v, %v; want %+v, ok %v", tc.arn, got, err, tc.want, tc.ok)
		}
		if !tc.ok && !errors.Is(err, shard.ErrNotConsumerARN) {
			t.Errorf("ParseConsumerARN(%q): error %v does not wrap ErrNotConsumerARN", tc.arn, err)
		}
		if shard.IsConsumerARN(tc.arn) != tc.ok {
			t.Errorf("IsConsumerARN(%q) = %v, want %v", tc.arn, !tc.ok, tc.ok)
		}
	}
}

func TestRegisterConsumer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		c := kinesistest.New(kinesistest.ConsumerDelay(3 * time.Second))
		streamARN, err := c.AddStream(fanOutStream, 1)
		if err != nil {
			t.Fatal(err)
		}
		c.Inject("DescribeStreamConsumer", kinesistest.FirstN(1), kinesistest.LimitExceeded())
		start := time.Now()
		cons, err := shard.RegisterConsumer(ctx, c, streamARN, "app")
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 3*time.Second {
			t.Errorf("RegisterConsumer returned after %v, before the consumer was ACTIVE (3 s)", d)
		}
		if cons.StreamARN != streamARN || cons.Name != "app" || !shard.IsConsumerARN(cons.ARN) {
			t.Errorf("got %+v", cons)
		}
		// Again: found, not registered twice.
		again, err := shard.RegisterConsumer(ctx, c, streamARN, "app")
		if err != nil || again != cons {
			t.Errorf("second RegisterConsumer: got %+v, %v; want %+v", again, err, cons)
		}
		if n := c.Calls("RegisterStreamConsumer"); n != 1 {
			t.Errorf("RegisterStreamConsumer calls: got %d, want 1", n)
		}
		waited, err := shard.WaitConsumer(ctx, c, cons.ARN)
		if err != nil || waited != cons {
			t.Errorf("WaitConsumer: got %+v, %v; want %+v", waited, err, cons)
		}

		// WaitConsumer waits out CREATING too.
		reg, err := c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: &streamARN, ConsumerName: aws.String("other")})
		if err != nil {
			t.Fatal(err)
		}
		start = time.Now()
		if _, err := shard.WaitConsumer(ctx, c, *reg.Consumer.ConsumerARN); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 3*time.Second {
			t.Errorf("WaitConsumer returned after %v, before ACTIVE", d)
		}

		_, err = shard.RegisterConsumer(ctx, c, streamARN+"x", "app")
		var notFound *types.ResourceNotFoundException
		if !errors.As(err, &notFound) {
			t.Errorf("RegisterConsumer on a missing stream: got %v, want ResourceNotFoundException", err)
		}
		_, err = shard.WaitConsumer(ctx, c, cons.ARN+"7")
		if !errors.As(err, &notFound) {
			t.Errorf("WaitConsumer of a missing consumer: got %v, want ResourceNotFoundException", err)
		}
		if _, err := shard.WaitConsumer(ctx, c, streamARN); !errors.Is(err, shard.ErrNotConsumerARN) {
			t.Errorf("WaitConsumer(stream ARN): got %v, want ErrNotConsumerARN", err)
		}
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if _, err := c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: &streamARN, ConsumerName: aws.String("slow")}); err != nil {
			t.Fatal(err)
		}
		if _, err := shard.RegisterConsumer(cctx, c, streamARN, "slow"); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("RegisterConsumer past its deadline: got %v, want DeadlineExceeded", err)
		}
	})
}
