package kinesistest_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/esmkit/esmkit/kinesistest"
)

// efoAPI is the enhanced fan-out part of the API; the SDK client and the
// fake must both satisfy it, which pins the signatures.
type efoAPI interface {
	RegisterStreamConsumer(context.Context, *kinesis.RegisterStreamConsumerInput, ...func(*kinesis.Options)) (*kinesis.RegisterStreamConsumerOutput, error)
	DescribeStreamConsumer(context.Context, *kinesis.DescribeStreamConsumerInput, ...func(*kinesis.Options)) (*kinesis.DescribeStreamConsumerOutput, error)
	ListStreamConsumers(context.Context, *kinesis.ListStreamConsumersInput, ...func(*kinesis.Options)) (*kinesis.ListStreamConsumersOutput, error)
	DeregisterStreamConsumer(context.Context, *kinesis.DeregisterStreamConsumerInput, ...func(*kinesis.Options)) (*kinesis.DeregisterStreamConsumerOutput, error)
	SubscribeToShard(context.Context, *kinesis.SubscribeToShardInput, ...func(*kinesis.Options)) (*kinesis.SubscribeToShardOutput, error)
}

var (
	_ efoAPI = (*kinesis.Client)(nil)
	_ efoAPI = (*kinesistest.Client)(nil)
)

const efoStream = "efo"

// efoSetup creates a stream of n shards and registers consumer "c" on it.
func efoSetup(t *testing.T, n int, opts ...kinesistest.Option) (c *kinesistest.Client, streamARN, consumerARN string) {
	t.Helper()
	c = kinesistest.New(opts...)
	streamARN, err := c.AddStream(efoStream, n)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.RegisterStreamConsumer(context.Background(), &kinesis.RegisterStreamConsumerInput{
		StreamARN: &streamARN, ConsumerName: ptr("c"),
	})
	if err != nil {
		t.Fatalf("RegisterStreamConsumer: %v", err)
	}
	return c, streamARN, *out.Consumer.ConsumerARN
}

func subscribe(ctx context.Context, c *kinesistest.Client, consumerARN, shardID string, pos types.StartingPosition) (*kinesis.SubscribeToShardEventStream, error) {
	out, err := c.SubscribeToShard(ctx, &kinesis.SubscribeToShardInput{
		ConsumerARN: &consumerARN, ShardId: &shardID, StartingPosition: &pos,
	})
	if err != nil {
		return nil, err
	}
	return out.GetStream(), nil
}

// recv returns the next event, or ok false when the stream has ended.
func recv(t *testing.T, es *kinesis.SubscribeToShardEventStream) (ev types.SubscribeToShardEvent, ok bool) {
	t.Helper()
	v, ok := <-es.Events()
	if !ok {
		return types.SubscribeToShardEvent{}, false
	}
	e, isEvent := v.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent)
	if !isEvent {
		t.Fatalf("got event %T, want *types.SubscribeToShardEventStreamMemberSubscribeToShardEvent", v)
	}
	return e.Value, true
}

// collect reads events until it has n records, and returns their data and
// the events.
func collect(t *testing.T, es *kinesis.SubscribeToShardEventStream, n int) ([]string, []types.SubscribeToShardEvent) {
	t.Helper()
	var got []string
	var evs []types.SubscribeToShardEvent
	for len(got) < n {
		ev, ok := recv(t, es)
		if !ok {
			t.Fatalf("stream ended after %d records (err %v), want %d", len(got), es.Err(), n)
		}
		evs = append(evs, ev)
		got = append(got, datas(ev.Records)...)
	}
	return got, evs
}

func TestConsumerLifecycle(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	c := kinesistest.New(kinesistest.Clock(clk.Now), kinesistest.ConsumerDelay(3*time.Second))
	streamARN, err := c.AddStream(efoStream, 1)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: &streamARN, ConsumerName: ptr("app")})
	if err != nil {
		t.Fatal(err)
	}
	arn := *reg.Consumer.ConsumerARN
	if want := fmt.Sprintf("%s/consumer/app:%d", streamARN, clk.Now().Unix()); arn != want {
		t.Errorf("ConsumerARN: got %s, want %s", arn, want)
	}
	if got := reg.Consumer.ConsumerStatus; got != types.ConsumerStatusCreating {
		t.Errorf("status after register: got %s, want CREATING", got)
	}
	_, err = subscribe(ctx, c, arn, "shardId-000000000000", types.StartingPosition{Type: types.ShardIteratorTypeLatest})
	wantErr[*types.ResourceInUseException](t, err)

	clk.Advance(3 * time.Second)
	for _, in := range []*kinesis.DescribeStreamConsumerInput{
		{ConsumerARN: &arn},
		{StreamARN: &streamARN, ConsumerName: ptr("app")},
	} {
		d, err := c.DescribeStreamConsumer(ctx, in)
		if err != nil {
			t.Fatalf("DescribeStreamConsumer: %v", err)
		}
		cd := d.ConsumerDescription
		if cd.ConsumerStatus != types.ConsumerStatusActive || *cd.ConsumerARN != arn || *cd.StreamARN != streamARN || *cd.ConsumerName != "app" {
			t.Errorf("DescribeStreamConsumer: got %s %s %s %s, want ACTIVE %s %s app", cd.ConsumerStatus, *cd.ConsumerARN, *cd.StreamARN, *cd.ConsumerName, arn, streamARN)
		}
	}

	_, err = c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: &streamARN, ConsumerName: ptr("app")})
	wantErr[*types.ResourceInUseException](t, err)
	for i := 1; i < 20; i++ {
		if _, err := c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: &streamARN, ConsumerName: ptr(fmt.Sprintf("c%02d", i))}); err != nil {
			t.Fatalf("consumer %d: %v", i, err)
		}
	}
	_, err = c.RegisterStreamConsumer(ctx, &kinesis.RegisterStreamConsumerInput{StreamARN: &streamARN, ConsumerName: ptr("one-too-many")})
	wantErr[*types.LimitExceededException](t, err)

	var names []string
	in := &kinesis.ListStreamConsumersInput{StreamARN: &streamARN, MaxResults: ptr(int32(7))}
	for pages := 0; ; pages++ {
		out, err := c.ListStreamConsumers(ctx, in)
		if err != nil {
			t.Fatalf("ListStreamConsumers: %v", err)
		}
		for _, cs := range out.Consumers {
			names = append(names, *cs.ConsumerName)
		}
		if out.NextToken == nil {
			if pages != 2 {
				t.Errorf("pages: got %d, want 3", pages+1)
			}
			break
		}
		in = &kinesis.ListStreamConsumersInput{StreamARN: &streamARN, NextToken: out.NextToken, MaxResults: in.MaxResults}
	}
	if len(names) != 20 || !slices.IsSorted(names) || names[19] != "c19" {
		t.Errorf("listed %d consumers %v, want 20 sorted by name", len(names), names)
	}

	if _, err := c.DeregisterStreamConsumer(ctx, &kinesis.DeregisterStreamConsumerInput{ConsumerARN: &arn}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: &arn})
	wantErr[*types.ResourceNotFoundException](t, err)
	_, err = c.DeregisterStreamConsumer(ctx, &kinesis.DeregisterStreamConsumerInput{StreamARN: &streamARN, ConsumerName: ptr("app")})
	wantErr[*types.ResourceNotFoundException](t, err)
	_, err = c.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: ptr("arn:aws:kinesis:us-east-1:123456789012:stream/efo")})
	wantErr[*types.InvalidArgumentException](t, err)

	// A consumer goes with its stream.
	c01 := fmt.Sprintf("%s/consumer/c01:%d", streamARN, clk.Now().Unix())
	if _, err := c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamARN: &streamARN}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeStreamConsumer(ctx, &kinesis.DescribeStreamConsumerInput{ConsumerARN: &c01})
	wantErr[*types.ResourceNotFoundException](t, err)

	for _, op := range []string{"RegisterStreamConsumer", "DescribeStreamConsumer", "ListStreamConsumers", "DeregisterStreamConsumer", "SubscribeToShard"} {
		if c.Calls(op) == 0 {
			t.Errorf("Calls(%s) = 0", op)
		}
	}
}

func TestSubscribeStartingPositions(t *testing.T) {
	// Each case puts old0…old4 a second apart, subscribes, then puts "new".
	tests := []struct {
		name string
		pos  func(seqs []string, arrivals []time.Time) types.StartingPosition
		want []string
	}{
		{"TRIM_HORIZON", func([]string, []time.Time) types.StartingPosition {
			return types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon}
		}, []string{"old0", "old1", "old2", "old3", "old4", "new"}},
		{"LATEST", func([]string, []time.Time) types.StartingPosition {
			return types.StartingPosition{Type: types.ShardIteratorTypeLatest}
		}, []string{"new"}},
		{"AT_SEQUENCE_NUMBER", func(seqs []string, _ []time.Time) types.StartingPosition {
			return types.StartingPosition{Type: types.ShardIteratorTypeAtSequenceNumber, SequenceNumber: &seqs[3]}
		}, []string{"old3", "old4", "new"}},
		{"AFTER_SEQUENCE_NUMBER", func(seqs []string, _ []time.Time) types.StartingPosition {
			return types.StartingPosition{Type: types.ShardIteratorTypeAfterSequenceNumber, SequenceNumber: &seqs[3]}
		}, []string{"old4", "new"}},
		{"AT_TIMESTAMP", func(_ []string, arrivals []time.Time) types.StartingPosition {
			return types.StartingPosition{Type: types.ShardIteratorTypeAtTimestamp, Timestamp: &arrivals[2]}
		}, []string{"old2", "old3", "old4", "new"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c, _, arn := efoSetup(t, 1)
				ctx := context.Background()
				var seqs []string
				var arrivals []time.Time
				for i := range 5 {
					_, seq, err := c.Put(ctx, efoStream, "k", []byte(fmt.Sprint("old", i)))
					if err != nil {
						t.Fatal(err)
					}
					seqs = append(seqs, seq)
					arrivals = append(arrivals, time.Now())
					time.Sleep(time.Second)
				}
				es, err := subscribe(ctx, c, arn, "shardId-000000000000", tc.pos(seqs, arrivals))
				if err != nil {
					t.Fatal(err)
				}
				defer es.Close()
				// The first event comes at once, even with no records, and
				// carries a continuation.
				first, ok := recv(t, es)
				if !ok || first.ContinuationSequenceNumber == nil {
					t.Fatalf("first event %+v (ok %v), want one with a continuation", first, ok)
				}
				if _, _, err := c.Put(ctx, efoStream, "k", []byte("new")); err != nil {
					t.Fatal(err)
				}
				rest, evs := collect(t, es, len(tc.want)-len(first.Records))
				got := append(datas(first.Records), rest...)
				if !slices.Equal(got, tc.want) {
					t.Errorf("got %v, want %v", got, tc.want)
				}
				last := evs[len(evs)-1]
				all, _ := c.Records(efoStream, "shardId-000000000000")
				if want := *all[len(all)-1].SequenceNumber; *last.ContinuationSequenceNumber != want {
					t.Errorf("continuation %s, want the last record's %s", *last.ContinuationSequenceNumber, want)
				}
				if *last.MillisBehindLatest != 0 {
					t.Errorf("MillisBehindLatest %d at the tip, want 0", *last.MillisBehindLatest)
				}
				for i, r := range all {
					if !r.ApproximateArrivalTimestamp.Equal(arrivalOf(t, first, evs, *r.SequenceNumber, *r.ApproximateArrivalTimestamp)) {
						t.Errorf("record %d: arrival time changed on the wire", i)
					}
				}
			})
		})
	}
}

// arrivalOf returns the arrival time that the events carry for record seq,
// or def if they do not carry it.
func arrivalOf(t *testing.T, first types.SubscribeToShardEvent, evs []types.SubscribeToShardEvent, seq string, def time.Time) time.Time {
	t.Helper()
	for _, ev := range append([]types.SubscribeToShardEvent{first}, evs...) {
		for _, r := range ev.Records {
			if *r.SequenceNumber == seq {
				return *r.ApproximateArrivalTimestamp
			}
		}
	}
	return def
}

func TestSubscribeEmptyShardContinuation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _, arn := efoSetup(t, 1)
		ctx := context.Background()
		es, err := subscribe(ctx, c, arn, "shardId-000000000000", types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		defer es.Close()
		// Heartbeats: an empty event about once a second, all with the
		// same continuation, and AFTER_SEQUENCE_NUMBER with it loses
		// nothing.
		var cont string
		for i := range 3 {
			ev, ok := recv(t, es)
			if !ok || len(ev.Records) != 0 || ev.ContinuationSequenceNumber == nil {
				t.Fatalf("event %d: %+v, want an empty event with a continuation", i, ev)
			}
			if i > 0 && *ev.ContinuationSequenceNumber != cont {
				t.Errorf("continuation changed from %s to %s with no records", cont, *ev.ContinuationSequenceNumber)
			}
			cont = *ev.ContinuationSequenceNumber
		}
		if _, _, err := c.Put(ctx, efoStream, "k", []byte("x")); err != nil {
			t.Fatal(err)
		}
		got, _ := collect(t, es, 1)
		es.Close()
		time.Sleep(5 * time.Second)
		es2, err := subscribe(ctx, c, arn, "shardId-000000000000", types.StartingPosition{Type: types.ShardIteratorTypeAfterSequenceNumber, SequenceNumber: &cont})
		if err != nil {
			t.Fatal(err)
		}
		defer es2.Close()
		again, _ := collect(t, es2, 1)
		if !slices.Equal(got, []string{"x"}) || !slices.Equal(again, got) {
			t.Errorf("got %v then %v, want [x] twice", got, again)
		}
	})
}

func TestSubscriptionLifetime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _, arn := efoSetup(t, 1)
		ctx := context.Background()
		start := time.Now()
		pos := types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon}
		es, err := subscribe(ctx, c, arn, "shardId-000000000000", pos)
		if err != nil {
			t.Fatal(err)
		}
		// Within 5 s: ResourceInUseException.
		time.Sleep(4 * time.Second)
		_, err = subscribe(ctx, c, arn, "shardId-000000000000", pos)
		wantErr[*types.ResourceInUseException](t, err)
		// Alone, the stream lasts five minutes and ends cleanly.
		n := 0
		for range es.Events() {
			n++
		}
		if err := es.Err(); err != nil {
			t.Errorf("Err after five minutes: %v", err)
		}
		if d := time.Since(start); d < 5*time.Minute || d > 5*time.Minute+time.Second {
			t.Errorf("stream lasted %v, want 5m", d)
		}
		if n < 250 {
			t.Errorf("%d heartbeat events in 5 minutes, want about 300", n)
		}

		// After 5 s, a second subscription succeeds and ends the first.
		es1, err := subscribe(ctx, c, arn, "shardId-000000000000", pos)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second)
		es2, err := subscribe(ctx, c, arn, "shardId-000000000000", pos)
		if err != nil {
			t.Fatalf("second subscription after 5 s: %v", err)
		}
		for range es1.Events() {
		}
		if err := es1.Err(); err != nil {
			t.Errorf("replaced subscription: Err %v, want nil", err)
		}
		if _, ok := recv(t, es2); !ok {
			t.Errorf("second subscription ended; want it open")
		}
		es2.Close()
		es1.Close()
	})
}

func TestSubscribeClosedShard(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _, arn := efoSetup(t, 1)
		ctx := context.Background()
		for i := range 3 {
			if _, _, err := c.Put(ctx, efoStream, "k", []byte(fmt.Sprint(i))); err != nil {
				t.Fatal(err)
			}
		}
		es, err := subscribe(ctx, c, arn, "shardId-000000000000", types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		defer es.Close()
		got, _ := collect(t, es, 3)
		time.Sleep(3 * time.Second)
		if _, err := c.SplitShard(ctx, &kinesis.SplitShardInput{
			StreamName: ptr(efoStream), ShardToSplit: ptr("shardId-000000000000"),
			NewStartingHashKey: ptr("170141183460469231731687303715884105728"),
		}); err != nil {
			t.Fatal(err)
		}
		var final types.SubscribeToShardEvent
		for {
			ev, ok := recv(t, es)
			if !ok {
				t.Fatalf("stream ended without a final event: %v", es.Err())
			}
			if ev.ContinuationSequenceNumber == nil {
				final = ev
				break
			}
		}
		if _, ok := recv(t, es); ok {
			t.Errorf("event after the final one; want the stream to end")
		}
		if err := es.Err(); err != nil {
			t.Errorf("Err: %v", err)
		}
		want := []childShard{
			{"shardId-000000000001", []string{"shardId-000000000000"}, "0", "170141183460469231731687303715884105727"},
			{"shardId-000000000002", []string{"shardId-000000000000"}, "170141183460469231731687303715884105728", "340282366920938463463374607431768211455"},
		}
		if got := children(final.ChildShards); !slices.EqualFunc(got, want, childEqual) {
			t.Errorf("ChildShards: got %+v, want %+v", got, want)
		}
		if !slices.Equal(got, []string{"0", "1", "2"}) {
			t.Errorf("records: got %v", got)
		}

		// A closed shard read from the start: records, then the end.
		time.Sleep(5 * time.Second)
		es2, err := subscribe(ctx, c, arn, "shardId-000000000000", types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		defer es2.Close()
		ev, ok := recv(t, es2)
		if !ok || ev.ContinuationSequenceNumber != nil || len(ev.ChildShards) != 2 || len(ev.Records) != 3 {
			t.Errorf("closed shard from TRIM_HORIZON: got %d records, continuation %v, %d children; want 3, nil, 2",
				len(ev.Records), ev.ContinuationSequenceNumber, len(ev.ChildShards))
		}
	})
}

func TestSubscribeErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _, arn := efoSetup(t, 1)
		ctx := context.Background()
		th := types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon}

		c.Inject("SubscribeToShard", kinesistest.FirstN(1), kinesistest.LimitExceeded())
		_, err := subscribe(ctx, c, arn, "shardId-000000000000", th)
		wantErr[*types.LimitExceededException](t, err)

		_, err = subscribe(ctx, c, arn, "shardId-000000000009", th)
		wantErr[*types.ResourceNotFoundException](t, err)
		_, err = subscribe(ctx, c, arn+"0", "shardId-000000000000", th)
		wantErr[*types.ResourceNotFoundException](t, err)
		_, err = subscribe(ctx, c, arn, "shardId-000000000000", types.StartingPosition{Type: types.ShardIteratorTypeAtSequenceNumber, SequenceNumber: ptr("123")})
		wantErr[*types.InvalidArgumentException](t, err)

		// An exception inside the stream arrives typed, through the SDK.
		es, err := subscribe(ctx, c, arn, "shardId-000000000000", th)
		if err != nil {
			t.Fatal(err)
		}
		recv(t, es)
		c.EndSubscriptions(&types.InternalFailureException{Message: ptr("boom")})
		for range es.Events() {
		}
		var internal *types.InternalFailureException
		if err := es.Err(); !errors.As(err, &internal) {
			t.Errorf("Err: got %v (%T), want *types.InternalFailureException", err, err)
		}
		es.Close()

		// Deregistering the consumer ends its streams.
		time.Sleep(5 * time.Second)
		es, err = subscribe(ctx, c, arn, "shardId-000000000000", th)
		if err != nil {
			t.Fatal(err)
		}
		recv(t, es)
		if _, err := c.DeregisterStreamConsumer(ctx, &kinesis.DeregisterStreamConsumerInput{ConsumerARN: &arn}); err != nil {
			t.Fatal(err)
		}
		for range es.Events() {
		}
		var nf *types.ResourceNotFoundException
		if err := es.Err(); !errors.As(err, &nf) {
			t.Errorf("Err after deregister: got %v, want *types.ResourceNotFoundException", err)
		}
		es.Close()
	})
}

func TestSubscribeContextCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _, arn := efoSetup(t, 1)
		ctx, cancel := context.WithCancel(context.Background())
		es, err := subscribe(ctx, c, arn, "shardId-000000000000", types.StartingPosition{Type: types.ShardIteratorTypeLatest})
		if err != nil {
			t.Fatal(err)
		}
		recv(t, es)
		cancel()
		for range es.Events() {
		}
		if err := es.Err(); !errors.Is(err, context.Canceled) {
			t.Errorf("Err: got %v, want context.Canceled", err)
		}
		es.Close()

		// A done context fails the call itself.
		_, err = subscribe(ctx, c, arn, "shardId-000000000000", types.StartingPosition{Type: types.ShardIteratorTypeLatest})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("SubscribeToShard with a done ctx: got %v, want context.Canceled", err)
		}
	})
}

// TestSubscribeClosedByReader checks that closing the stream without
// reading it to the end releases everything (synctest fails on a leaked
// goroutine).
func TestSubscribeClosedByReader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _, arn := efoSetup(t, 2)
		ctx := context.Background()
		for i := range 100 {
			if _, _, err := c.Put(ctx, efoStream, fmt.Sprint(i), []byte("x")); err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range []string{"shardId-000000000000", "shardId-000000000001"} {
			es, err := subscribe(ctx, c, arn, id, types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon})
			if err != nil {
				t.Fatal(err)
			}
			es.Close()
		}
		synctest.Wait()
	})
}
