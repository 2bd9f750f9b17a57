package shard_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/esmkit/esmkit/internal/testserver"
	"github.com/esmkit/esmkit/shard"
)

var localSeq atomic.Int64

// localStream creates a stream on kinesis-local and waits until it is
// ACTIVE.
func localStream(ctx context.Context, t *testing.T, client *kinesis.Client, shards int32) (name, arn string) {
	t.Helper()
	name = fmt.Sprintf("shard-efo-%d-%d", os.Getpid(), localSeq.Add(1))
	if _, err := client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: &name, ShardCount: &shards}); err != nil {
		t.Fatalf("CreateStream: %v", err)
	}
	w := kinesis.NewStreamExistsWaiter(client, func(o *kinesis.StreamExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 200*time.Millisecond
	})
	out, err := w.WaitForOutput(ctx, &kinesis.DescribeStreamInput{StreamName: &name}, 30*time.Second)
	if err != nil {
		t.Fatalf("waiting for %s: %v", name, err)
	}
	return name, *out.StreamDescription.StreamARN
}

// putLocal puts n records with keys spread over the hash space and returns
// the sequence numbers each shard got, in order.
func putLocal(ctx context.Context, t *testing.T, client *kinesis.Client, stream, prefix string, n int) map[string][]string {
	t.Helper()
	var entries []types.PutRecordsRequestEntry
	for i := range n {
		entries = append(entries, types.PutRecordsRequestEntry{
			Data: []byte(fmt.Sprint(prefix, i)), PartitionKey: aws.String(fmt.Sprint(prefix, i)),
		})
	}
	out, err := client.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: &stream, Records: entries})
	if err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
		t.Fatalf("PutRecords: %v (failed %d)", err, aws.ToInt32(out.FailedRecordCount))
	}
	got := map[string][]string{}
	for _, r := range out.Records {
		got[*r.ShardId] = append(got[*r.ShardId], *r.SequenceNumber)
	}
	return got
}

// TestSubscriberKinesisLocal reads every shard of a kinesis-local stream
// through a real *kinesis.Client with enhanced fan-out: it registers a
// consumer, waits for ACTIVE, subscribes to each shard, and reads records
// put before and during the subscription in order; then it drops each
// subscription and checks that the next one resumes without a gap or a
// duplicate.
func TestSubscriberKinesisLocal(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	client := testserver.KinesisClient(t, testserver.KinesisMock(t), testserver.InitialResponseShim)
	stream, streamARN := localStream(ctx, t, client, 2)

	cons, err := shard.RegisterConsumer(ctx, client, streamARN, "esmkit")
	if err != nil {
		t.Fatalf("RegisterConsumer: %v", err)
	}
	if !shard.IsConsumerARN(cons.ARN) {
		t.Fatalf("consumer ARN %q does not parse", cons.ARN)
	}
	if parsed, err := shard.ParseConsumerARN(cons.ARN); err != nil || parsed.StreamARN != streamARN {
		t.Errorf("ParseConsumerARN(%s): stream %s, %v; want %s", cons.ARN, parsed.StreamARN, err, streamARN)
	}
	if got, err := shard.WaitConsumer(ctx, client, cons.ARN); err != nil || got.ARN != cons.ARN {
		t.Errorf("WaitConsumer: %+v, %v", got, err)
	}

	before := putLocal(ctx, t, client, stream, "a", 40)
	var wg sync.WaitGroup
	subs := map[string]*shard.Subscriber{}
	got := map[string][]string{}
	for _, id := range []string{"shardId-000000000000", "shardId-000000000001"} {
		subs[id] = shard.NewSubscriber(shard.SubscriberConfig{
			Client: client, ConsumerARN: cons.ARN, ShardID: id, Start: trimHorizon,
			Logger: slog.New(slog.NewTextHandler(t.Output(), nil)),
		})
		defer subs[id].Close()
	}
	read := func(want map[string][]string) {
		var mu sync.Mutex
		for id, sub := range subs {
			wg.Go(func() {
				recs, err := readRecords(ctx, sub, len(want[id]))
				if err != nil {
					t.Errorf("%s: %v", id, err)
				}
				mu.Lock()
				defer mu.Unlock()
				got[id] = append(got[id], recs...)
			})
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
	}
	read(before)
	during := putLocal(ctx, t, client, stream, "b", 30)
	read(during)
	// Drop every subscription; the next Next subscribes again after the
	// last record (kinesis-local refuses that for a few seconds with
	// ResourceInUseException, which the Subscriber backs off from).
	for _, sub := range subs {
		sub.Close()
	}
	after := putLocal(ctx, t, client, stream, "c", 30)
	read(after)
	for id := range subs {
		want := slices.Concat(before[id], during[id], after[id])
		if !slices.Equal(got[id], want) {
			t.Errorf("%s: %s", id, firstDiff(got[id], want))
		}
	}
	if t.Failed() {
		return
	}

	// Started at LATEST with nothing read, a dropped subscription resumes
	// after the continuation of its empty events, so the record put in
	// between arrives.
	// kinesis-local, unlike Kinesis, never lets a newer subscription take
	// over an open one, so close the old one first.
	id := "shardId-000000000000"
	subs[id].Close()
	sub := newSubscriber(client, cons, id, shard.Position{Type: types.ShardIteratorTypeLatest})
	defer sub.Close()
	if p, err := sub.Next(ctx); err != nil || len(p.Records) != 0 {
		t.Fatalf("LATEST: first page %d records, %v; want an empty page", len(p.Records), err)
	}
	sub.Close()
	between := putLocal(ctx, t, client, stream, "d", 10)
	if got := readN(ctx, t, sub, len(between[id])); !slices.Equal(got, between[id]) {
		t.Errorf("LATEST then resubscribe: %s", firstDiff(got, between[id]))
	}
}
