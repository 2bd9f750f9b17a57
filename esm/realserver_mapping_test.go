package esm_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/esmkit/esmkit/esm"
	"github.com/esmkit/esmkit/internal/testserver"
)

// The mapping end to end through a real *kinesis.Client against each
// local Kinesis server, started by internal/testserver. Every test runs
// against both servers, in parallel (they are separate processes).

// realServer is one local Kinesis server and how a mapping addresses it.
type realServer struct {
	name     string
	endpoint func(testing.TB) string
	// opts are the mapping options the server needs: kinesalite accepts
	// only StreamName (AddressStreamByName); kinesis-local takes the ARN.
	opts []esm.Option
}

var realServers = []realServer{
	{"kinesalite", testserver.Kinesis, realServerOpts()},
	{"kinesis-local", testserver.KinesisMock, []esm.Option{esm.PollInterval(200 * time.Millisecond)}},
}

// client returns an SDK client for the server, with optFns applied last.
func (s realServer) client(t testing.TB, optFns ...func(*kinesis.Options)) streamAPI {
	t.Helper()
	return testserver.KinesisClient(t, s.endpoint(t), optFns...)
}

// eachServer runs f against every real server, as parallel subtests (the
// servers are separate processes).
func eachServer(t *testing.T, f func(t *testing.T, s realServer)) {
	for _, s := range realServers {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			f(t, s)
		})
	}
}

// uniqueName returns a stream name no other test or run uses.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano())
}

// newStream creates a stream of n shards with a unique name, waits until
// it is ACTIVE, and deletes it when the test ends. A CreateStream refused
// for the shard quota (LimitExceededException) is retried for a minute,
// while other tests' streams are deleted: kinesalite allows 10 open shards
// in all its streams (its --shardLimit, which internal/testserver leaves at
// the default), and kinesalite_test.go's streams keep 6 of them.
func newStream(t *testing.T, api streamAPI, prefix string, n int) (name, arn string) {
	t.Helper()
	name = uniqueName(prefix)
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := api.CreateStream(context.Background(), &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(int32(n))})
		if err == nil {
			break
		}
		var quota *types.LimitExceededException
		if !errors.As(err, &quota) || time.Now().After(deadline) {
			t.Fatalf("CreateStream %s: %v", name, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	deleteOnCleanup(t, api, name)
	return name, waitActive(t, api, name)
}

// deleteOnCleanup deletes the stream when the test ends and waits until it
// is gone, so that its shards no longer count against the shard quota.
func deleteOnCleanup(t *testing.T, api streamAPI, name string) {
	d, ok := api.(interface {
		DeleteStream(context.Context, *kinesis.DeleteStreamInput, ...func(*kinesis.Options)) (*kinesis.DeleteStreamOutput, error)
	})
	if !ok {
		return
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := d.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(name)}); err != nil {
			t.Logf("DeleteStream %s: %v", name, err)
			return
		}
		for ctx.Err() == nil {
			_, err := api.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
			var gone *types.ResourceNotFoundException
			if errors.As(err, &gone) {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// expect sets how many records the collector waits for, once the test
// knows, and releases wait if they have already arrived.
func (c *collector) expect(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.want = n
	if c.total >= c.want && c.done != nil {
		close(c.done)
		c.done = nil
	}
}

func TestRealServerTrimHorizonOrderPerShard(t *testing.T) {
	eachServer(t, func(t *testing.T, s realServer) {
		api := s.client(t)
		name, arn := newStream(t, api, "rs-trim", 3)
		recs := makeRecs("t", 600, 30)
		put(t, api, name, recs)
		if got := len(shardsOf(recs)); got != 3 {
			t.Fatalf("records landed in %d shards, want 3", got)
		}
		c := newCollector(len(recs))
		opts := append([]esm.Option{esm.StartingPosition(esm.TrimHorizon), esm.BatchSize(50)}, s.opts...)
		stop := run(t, newMapping(t, api, arn, c.handle, opts...))
		c.wait(t, time.Minute)
		if err := stop(); err != nil {
			t.Fatalf("Run: %v", err)
		}
		checkExactlyOnceInOrder(t, c.records(), recs)
		checkKeyOrder(t, c.records(), recs)
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, b := range c.batches {
			if len(b) < 1 || len(b) > 50 {
				t.Errorf("batch of %d records, want 1..50", len(b))
			}
			for _, d := range b {
				if d.ShardID != b[0].ShardID {
					t.Fatalf("batch mixes shards %s and %s", b[0].ShardID, d.ShardID)
				}
			}
		}
	})
}

// A backlog read in one page is cut at BatchSize, in order: checklist
// "count splits a page", through a real server's GetRecords.
func TestRealServerBatchBoundaries(t *testing.T) {
	eachServer(t, func(t *testing.T, s realServer) {
		api := s.client(t)
		name, arn := newStream(t, api, "rs-batch", 1)
		recs := makeRecs("b", 250, 5)
		put(t, api, name, recs)
		c := newCollector(len(recs))
		opts := append([]esm.Option{esm.StartingPosition(esm.TrimHorizon), esm.BatchSize(100)}, s.opts...)
		stop := run(t, newMapping(t, api, arn, c.handle, opts...))
		c.wait(t, time.Minute)
		if err := stop(); err != nil {
			t.Fatalf("Run: %v", err)
		}
		if got, want := fmt.Sprint(c.batchSizes()), "[100 100 50]"; got != want {
			t.Errorf("batch sizes: got %s, want %s", got, want)
		}
		checkExactlyOnceInOrder(t, c.records(), recs)
	})
}

func TestRealServerSplitAndMergeMidStream(t *testing.T) {
	eachServer(t, func(t *testing.T, s realServer) {
		api := s.client(t)
		name, arn := newStream(t, api, "rs-reshard", 2)
		var all []rec
		phase := func(prefix string) {
			r := makeRecs(prefix, 200, 20)
			put(t, api, name, r)
			all = append(all, r...)
		}
		phase("p1")
		c := newCollector(0)
		reached := make(chan struct{})
		var once sync.Once
		c.onBatch = func(events.KinesisEvent) { once.Do(func() { close(reached) }) }
		opts := append([]esm.Option{esm.StartingPosition(esm.TrimHorizon), esm.BatchSize(10)}, s.opts...)
		stop := run(t, newMapping(t, api, arn, c.handle, opts...))
		select {
		case <-reached: // the parents are being read
		case <-time.After(time.Minute):
			t.Fatal("no batch within a minute")
		}

		ctx := context.Background()
		shards, err := api.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		p0 := shards.Shards[0]
		mid := midpoint(t, aws.ToString(p0.HashKeyRange.StartingHashKey), aws.ToString(p0.HashKeyRange.EndingHashKey))
		if _, err := api.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String(name), ShardToSplit: p0.ShardId, NewStartingHashKey: aws.String(mid)}); err != nil {
			t.Fatal(err)
		}
		waitActive(t, api, name)
		phase("p2")
		shards, err = api.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		var children []string
		for _, sh := range shards.Shards {
			if aws.ToString(sh.ParentShardId) == aws.ToString(p0.ShardId) {
				children = append(children, aws.ToString(sh.ShardId))
			}
		}
		if len(children) != 2 {
			t.Fatalf("split made %d children, want 2", len(children))
		}
		if _, err := api.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: aws.String(name), ShardToMerge: aws.String(children[0]), AdjacentShardToMerge: aws.String(children[1])}); err != nil {
			t.Fatal(err)
		}
		waitActive(t, api, name)
		phase("p3")

		c.expect(len(all))
		c.wait(t, 2*time.Minute)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		got := c.records()
		checkExactlyOnceInOrder(t, got, all)
		checkKeyOrder(t, got, all)
		checkParentsFirstOn(t, api, name, got)
	})
}

// checkParentsFirstOn asserts that no record of a shard was delivered
// before the last record of each of its parents.
func checkParentsFirstOn(t *testing.T, api streamAPI, name string, got []delivered) {
	t.Helper()
	out, err := api.ListShards(context.Background(), &kinesis.ListShardsInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	first, last := map[string]int{}, map[string]int{}
	for i, d := range got {
		if _, ok := first[d.ShardID]; !ok {
			first[d.ShardID] = i
		}
		last[d.ShardID] = i
	}
	checked := 0
	for _, s := range out.Shards {
		id := aws.ToString(s.ShardId)
		for _, p := range []*string{s.ParentShardId, s.AdjacentParentShardId} {
			if p == nil {
				continue
			}
			fc, okc := first[id]
			lp, okp := last[*p]
			if okc && okp {
				checked++
				if fc < lp {
					t.Errorf("shard %s: first record delivered at %d, before parent %s's last at %d", id, fc, *p, lp)
				}
			}
		}
	}
	if checked < 3 {
		t.Errorf("checked %d parent/child pairs, want at least 3", checked)
	}
}

func TestRealServerStopAndRestartOnSameStore(t *testing.T) {
	eachServer(t, func(t *testing.T, s realServer) {
		api := s.client(t)
		name := uniqueName("rs-restart")
		deleteOnCleanup(t, api, name) // restartSuite creates it
		restartSuite(t, api, name, 2, s.opts...)
	})
}

// AT_TIMESTAMP through the mapping: only records that arrived at or after
// the timestamp are delivered. Every shard gets records after it:
// kinesalite never answers an AT_TIMESTAMP GetShardIterator on a shard
// with no record at or after the timestamp (see internal/kinesisconformance,
// AtTimestampPastTip).
func TestRealServerAtTimestamp(t *testing.T) {
	eachServer(t, func(t *testing.T, s realServer) {
		api := s.client(t)
		name, arn := newStream(t, api, "rs-ts", 2)
		put(t, api, name, makeRecs("before", 50, 10))
		time.Sleep(100 * time.Millisecond)
		ts := time.Now()
		time.Sleep(100 * time.Millisecond)
		after := makeRecs("after", 50, 10)
		put(t, api, name, after)
		if got := len(shardsOf(after)); got != 2 {
			t.Fatalf("records after the timestamp landed in %d shards, want 2", got)
		}
		c := newCollector(len(after))
		opts := append([]esm.Option{esm.StartingPosition(esm.AtTimestamp), esm.StartingPositionTimestamp(ts)}, s.opts...)
		stop := run(t, newMapping(t, api, arn, c.handle, opts...))
		c.wait(t, time.Minute)
		time.Sleep(time.Second) // polls that could deliver older records
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		checkExactlyOnceInOrder(t, c.records(), after)
	})
}
