package esm_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/esmkit/esmkit/internal/seqnum"
	"github.com/esmkit/esmkit/shard"
)

// streamAPI is what the end-to-end tests call. *kinesistest.Client and a
// real *kinesis.Client both satisfy it, so one suite runs against both.
type streamAPI interface {
	shard.Client
	CreateStream(context.Context, *kinesis.CreateStreamInput, ...func(*kinesis.Options)) (*kinesis.CreateStreamOutput, error)
	DescribeStreamSummary(context.Context, *kinesis.DescribeStreamSummaryInput, ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error)
	PutRecords(context.Context, *kinesis.PutRecordsInput, ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error)
	SplitShard(context.Context, *kinesis.SplitShardInput, ...func(*kinesis.Options)) (*kinesis.SplitShardOutput, error)
	MergeShards(context.Context, *kinesis.MergeShardsInput, ...func(*kinesis.Options)) (*kinesis.MergeShardsOutput, error)
}

// createStream creates a stream of n shards, waits until it is ACTIVE and
// returns its ARN.
func createStream(t testing.TB, api streamAPI, name string, n int) string {
	t.Helper()
	ctx := context.Background()
	if _, err := api.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(int32(n))}); err != nil {
		t.Fatalf("CreateStream %s: %v", name, err)
	}
	return waitActive(t, api, name)
}

func waitActive(t testing.TB, api streamAPI, name string) string {
	t.Helper()
	for i := 0; ; i++ {
		out, err := api.DescribeStreamSummary(context.Background(), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if err != nil {
			t.Fatalf("DescribeStreamSummary %s: %v", name, err)
		}
		if s := out.StreamDescriptionSummary; s.StreamStatus == types.StreamStatusActive {
			return aws.ToString(s.StreamARN)
		}
		if i > 200 {
			t.Fatalf("stream %s not ACTIVE after %d checks", name, i)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// rec is a record to put, and after the put, where it landed.
type rec struct {
	Key, Data string
	ShardID   string
	Seq       string
}

// put writes recs in order, 500 at a time, filling in ShardID and Seq.
func put(t testing.TB, api streamAPI, name string, recs []rec) {
	t.Helper()
	for len(recs) > 0 {
		n := min(len(recs), 500)
		in := &kinesis.PutRecordsInput{StreamName: aws.String(name)}
		for _, r := range recs[:n] {
			in.Records = append(in.Records, types.PutRecordsRequestEntry{PartitionKey: aws.String(r.Key), Data: []byte(r.Data)})
		}
		out, err := api.PutRecords(context.Background(), in)
		if err != nil {
			t.Fatalf("PutRecords: %v", err)
		}
		if aws.ToInt32(out.FailedRecordCount) != 0 {
			t.Fatalf("PutRecords: %d records failed", aws.ToInt32(out.FailedRecordCount))
		}
		for i, e := range out.Records {
			recs[i].ShardID, recs[i].Seq = aws.ToString(e.ShardId), aws.ToString(e.SequenceNumber)
		}
		recs = recs[n:]
	}
}

// makeRecs returns n records over keys partition keys, with data naming
// the key and the record's index.
func makeRecs(prefix string, n, keys int) []rec {
	out := make([]rec, n)
	for i := range out {
		k := fmt.Sprintf("key-%d", i%keys)
		out[i] = rec{Key: k, Data: fmt.Sprintf(`{"key":%q,"i":%d,"p":%q}`, k, i, prefix)}
	}
	return out
}

// delivered is one record as the handler saw it.
type delivered struct {
	ShardID, Seq, Key, Data string
}

// collector is a handler that records every successful batch. fail, if set,
// is consulted first: a non-nil error fails the batch and nothing of it is
// recorded.
type collector struct {
	mu      sync.Mutex
	batches [][]delivered
	calls   int
	want    int
	total   int
	done    chan struct{}
	fail    func(call int, ev events.KinesisEvent) error
	inCall  int // invocations running now, per collector (all shards)
	maxIn   int
	onBatch func(ev events.KinesisEvent)
}

func newCollector(want int) *collector { return &collector{want: want, done: make(chan struct{})} }

func (c *collector) handle(ctx context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
	c.mu.Lock()
	c.calls++
	call := c.calls
	c.inCall++
	c.maxIn = max(c.maxIn, c.inCall)
	fail, onBatch := c.fail, c.onBatch
	c.mu.Unlock()
	defer func() { c.mu.Lock(); c.inCall--; c.mu.Unlock() }()
	if onBatch != nil {
		onBatch(ev)
	}
	if fail != nil {
		if err := fail(call, ev); err != nil {
			return events.KinesisEventResponse{}, err
		}
	}
	b := make([]delivered, len(ev.Records))
	for i, r := range ev.Records {
		id, _, _ := cut(r.EventID)
		b[i] = delivered{ShardID: id, Seq: r.Kinesis.SequenceNumber, Key: r.Kinesis.PartitionKey, Data: string(r.Kinesis.Data)}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batches = append(c.batches, b)
	c.total += len(b)
	if c.want > 0 && c.total >= c.want && c.done != nil {
		close(c.done)
		c.done = nil
	}
	return events.KinesisEventResponse{}, nil
}

func cut(eventID string) (shardID, seq string, ok bool) {
	for i := len(eventID) - 1; i >= 0; i-- {
		if eventID[i] == ':' {
			return eventID[:i], eventID[i+1:], true
		}
	}
	return "", "", false
}

// wait blocks until want records have been delivered or d has passed.
func (c *collector) wait(t testing.TB, d time.Duration) {
	t.Helper()
	c.mu.Lock()
	done := c.done
	c.mu.Unlock()
	if done == nil {
		return
	}
	select {
	case <-done:
	case <-time.After(d):
		c.mu.Lock()
		defer c.mu.Unlock()
		t.Fatalf("after %v: %d of %d records delivered", d, c.total, c.want)
	}
}

func (c *collector) records() []delivered {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []delivered
	for _, b := range c.batches {
		out = append(out, b...)
	}
	return out
}

func (c *collector) batchSizes() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []int
	for _, b := range c.batches {
		out = append(out, len(b))
	}
	return out
}

// checkExactlyOnceInOrder asserts every put record was delivered exactly once
// and that each shard's records arrived in sequence order.
func checkExactlyOnceInOrder(t testing.TB, got []delivered, want []rec) {
	t.Helper()
	checkExactlyOnce(t, got, want)
	last := make(map[string]string)
	for _, d := range got {
		if l, ok := last[d.ShardID]; ok && !seqnum.Less(l, d.Seq) {
			t.Errorf("shard %s: record %s delivered after %s", d.ShardID, d.Seq, l)
		}
		last[d.ShardID] = d.Seq
	}
}

// checkExactlyOnce asserts every put record was delivered exactly once.
func checkExactlyOnce(t testing.TB, got []delivered, want []rec) {
	t.Helper()
	seen := make(map[string]int)
	for _, d := range got {
		seen[d.ShardID+":"+d.Seq]++
	}
	for _, r := range want {
		if n := seen[r.ShardID+":"+r.Seq]; n != 1 {
			t.Errorf("record %s:%s (key %s) delivered %d times, want 1", r.ShardID, r.Seq, r.Key, n)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d records delivered, want %d", len(got), len(want))
	}
}

// checkKeyOrder asserts that the records of each partition key arrived in the
// order they were put (put order is per-key order, even across reshards).
func checkKeyOrder(t testing.TB, got []delivered, want []rec) {
	t.Helper()
	pos := make(map[string]int, len(want))
	for i, r := range want {
		pos[r.ShardID+":"+r.Seq] = i
	}
	lastByKey := make(map[string]int)
	for _, d := range got {
		i, ok := pos[d.ShardID+":"+d.Seq]
		if !ok {
			t.Errorf("delivered unknown record %s:%s", d.ShardID, d.Seq)
			continue
		}
		if l, ok := lastByKey[d.Key]; ok && i < l {
			t.Errorf("key %s: record %d delivered after record %d", d.Key, i, l)
		}
		lastByKey[d.Key] = max(lastByKey[d.Key], i)
	}
}

func shardsOf(recs []rec) []string {
	var ids []string
	for _, r := range recs {
		if !slices.Contains(ids, r.ShardID) {
			ids = append(ids, r.ShardID)
		}
	}
	slices.Sort(ids)
	return ids
}
