package esm_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/esmkit/esmkit/esm"
	"github.com/esmkit/esmkit/internal/event"
	"github.com/esmkit/esmkit/kinesistest"
)

// run starts m in the background and returns a stop function that cancels
// it and returns Run's error.
func run(t testing.TB, m *esm.Mapping) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- m.Run(ctx) }()
	var once sync.Once
	var err error
	return func() error {
		once.Do(func() { cancel(); err = <-errc })
		return err
	}
}

func newMapping(t testing.TB, kc esm.KinesisClient, arn string, h esm.Handler, opts ...esm.Option) *esm.Mapping {
	t.Helper()
	m, err := esm.New(kc, arn, h, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m
}

func TestTrimHorizonDeliversEveryRecordOnceInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kc := kinesistest.New()
		arn := createStream(t, kc, "orders", 4)
		recs := makeRecs("a", 2000, 50)
		put(t, kc, "orders", recs)
		if got := len(shardsOf(recs)); got != 4 {
			t.Fatalf("records landed in %d shards, want 4", got)
		}
		c := newCollector(len(recs))
		stop := run(t, newMapping(t, kc, arn, c.handle, esm.StartingPosition(esm.TrimHorizon), esm.BatchSize(100)))
		c.wait(t, time.Minute)
		if err := stop(); err != nil {
			t.Fatalf("Run: %v", err)
		}
		checkExactlyOnceInOrder(t, c.records(), recs)
		for _, n := range c.batchSizes() {
			if n < 1 || n > 100 {
				t.Errorf("batch of %d records, want 1..100", n)
			}
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, b := range c.batches {
			for _, d := range b {
				if d.ShardID != b[0].ShardID {
					t.Fatalf("batch mixes shards %s and %s", b[0].ShardID, d.ShardID)
				}
			}
		}
	})
}

func TestEventRecordFields(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kc := kinesistest.New(kinesistest.Region("us-east-2"))
		arn := createStream(t, kc, "lambda-stream", 1)
		recs := []rec{{Key: "1", Data: "Hello, this is a test."}}
		put(t, kc, "lambda-stream", recs)
		got := make(chan events.KinesisEventRecord, 1)
		h := func(_ context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
			got <- ev.Records[0]
			return events.KinesisEventResponse{}, nil
		}
		stop := run(t, newMapping(t, kc, arn, h, esm.StartingPosition(esm.TrimHorizon),
			esm.InvokeIdentityARN("arn:aws:iam::123456789012:role/lambda-role")))
		r := <-got
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		want := events.KinesisEventRecord{
			AwsRegion:         "us-east-2",
			EventID:           recs[0].ShardID + ":" + recs[0].Seq,
			EventName:         "aws:kinesis:record",
			EventSource:       "aws:kinesis",
			EventSourceArn:    arn,
			EventVersion:      "1.0",
			InvokeIdentityArn: "arn:aws:iam::123456789012:role/lambda-role",
			Kinesis: events.KinesisRecord{
				ApproximateArrivalTimestamp: r.Kinesis.ApproximateArrivalTimestamp,
				Data:                        []byte("Hello, this is a test."),
				PartitionKey:                "1",
				SequenceNumber:              recs[0].Seq,
				KinesisSchemaVersion:        "1.0",
			},
		}
		gj, _ := json.Marshal(r)
		wj, _ := json.Marshal(want)
		if string(gj) != string(wj) {
			t.Errorf("record:\ngot  %s\nwant %s", gj, wj)
		}
		if r.Kinesis.ApproximateArrivalTimestamp.IsZero() {
			t.Error("approximateArrivalTimestamp is zero")
		}
	})
}

func TestLatestDeliversOnlyNewRecords(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kc := kinesistest.New()
		arn := createStream(t, kc, "s", 2)
		put(t, kc, "s", makeRecs("old", 100, 10))
		newRecs := makeRecs("new", 100, 10)
		c := newCollector(len(newRecs))
		stop := run(t, newMapping(t, kc, arn, c.handle, esm.StartingPosition(esm.Latest)))
		// Every shard has taken its LATEST iterator once all goroutines wait.
		synctest.Wait()
		put(t, kc, "s", newRecs)
		c.wait(t, time.Minute)
		time.Sleep(5 * time.Second) // polls that could deliver old records
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		checkExactlyOnceInOrder(t, c.records(), newRecs)
	})
}

func TestAtTimestampStartsAtFirstLaterRecord(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kc := kinesistest.New()
		arn := createStream(t, kc, "s", 2)
		put(t, kc, "s", makeRecs("before", 50, 10))
		time.Sleep(time.Minute)
		ts := time.Now()
		after := makeRecs("after", 50, 10)
		put(t, kc, "s", after)
		time.Sleep(time.Second)
		c := newCollector(len(after))
		stop := run(t, newMapping(t, kc, arn, c.handle, esm.StartingPosition(esm.AtTimestamp), esm.StartingPositionTimestamp(ts)))
		c.wait(t, time.Minute)
		time.Sleep(5 * time.Second)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		checkExactlyOnceInOrder(t, c.records(), after)
	})
}

func TestBatchBoundaries(t *testing.T) {
	tests := []struct {
		name      string
		n         int
		batchSize int
		dataSize  int
		want      []int
	}{
		{"count splits a page", 250, 100, 10, []int{100, 100, 50}},
		{"batch size one", 3, 1, 10, []int{1, 1, 1}},
		// 1 MiB of data is about 1.4 MB of base64: four fit in 6 MB.
		{"payload limit spills in order", 10, 100, 1<<20 - 1, []int{4, 4, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				kc := kinesistest.New()
				arn := createStream(t, kc, "s", 1)
				recs := make([]rec, tc.n)
				for i := range recs {
					data := make([]byte, tc.dataSize)
					copy(data, fmt.Sprint(i))
					recs[i] = rec{Key: "k", Data: string(data)}
				}
				put(t, kc, "s", recs)
				c := newCollector(tc.n)
				var maxPayload int
				c.onBatch = func(ev events.KinesisEvent) {
					b, _ := json.Marshal(ev)
					maxPayload = max(maxPayload, len(b))
				}
				stop := run(t, newMapping(t, kc, arn, c.handle, esm.StartingPosition(esm.TrimHorizon), esm.BatchSize(tc.batchSize)))
				c.wait(t, time.Minute)
				if err := stop(); err != nil {
					t.Fatal(err)
				}
				if got := fmt.Sprint(c.batchSizes()); got != fmt.Sprint(tc.want) {
					t.Errorf("batch sizes: got %s, want %v", got, tc.want)
				}
				if maxPayload > event.MaxPayload {
					t.Errorf("largest payload %d bytes, want <= %d", maxPayload, event.MaxPayload)
				}
				checkExactlyOnceInOrder(t, c.records(), recs)
			})
		})
	}
}

func TestBatchingWindow(t *testing.T) {
	tests := []struct {
		name    string
		n       int
		window  time.Duration
		wantAt  time.Duration // invocation time after the records were put
		wantLen int
	}{
		// Checklist 21: 5 records, window 10 s: one invocation at 10 s.
		{"window expires", 5, 10 * time.Second, 10 * time.Second, 5},
		// Checklist 22: 100 records, window 60 s, BatchSize 100: at once.
		{"full batch ends the window", 100, time.Minute, 0, 100},
		// Checklist 20: window 0 invokes at once.
		{"no window", 3, 0, 0, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				kc := kinesistest.New()
				arn := createStream(t, kc, "s", 1)
				put(t, kc, "s", makeRecs("w", tc.n, 1))
				start := time.Now()
				var at []time.Duration
				c := newCollector(tc.n)
				c.onBatch = func(events.KinesisEvent) { at = append(at, time.Since(start)) }
				stop := run(t, newMapping(t, kc, arn, c.handle, esm.StartingPosition(esm.TrimHorizon),
					esm.BatchSize(100), esm.MaximumBatchingWindow(tc.window)))
				c.wait(t, 10*time.Minute)
				if err := stop(); err != nil {
					t.Fatal(err)
				}
				if got := c.batchSizes(); len(got) != 1 || got[0] != tc.wantLen {
					t.Fatalf("batch sizes: got %v, want [%d]", got, tc.wantLen)
				}
				if at[0] != tc.wantAt {
					t.Errorf("invoked after %v, want %v", at[0], tc.wantAt)
				}
			})
		})
	}
}

func TestSplitAndMergeMidStream(t *testing.T) {
	for _, pf := range []int{1, 4} {
		t.Run(fmt.Sprintf("ParallelizationFactor=%d", pf), func(t *testing.T) {
			splitAndMerge(t, pf)
		})
	}
}

func splitAndMerge(t *testing.T, pf int) {
	synctest.Test(t, func(t *testing.T) {
		kc := kinesistest.New()
		arn := createStream(t, kc, "s", 2)
		var all []rec
		phase := func(prefix string) {
			r := makeRecs(prefix, 300, 30)
			put(t, kc, "s", r)
			all = append(all, r...)
		}
		phase("p1")
		c := newCollector(0)
		reached := make(chan struct{})
		var once sync.Once
		c.onBatch = func(events.KinesisEvent) { once.Do(func() { close(reached) }) }
		stop := run(t, newMapping(t, kc, arn, c.handle, esm.StartingPosition(esm.TrimHorizon),
			esm.BatchSize(10), esm.ShardRefreshInterval(5*time.Second), esm.ParallelizationFactor(pf)))
		<-reached // the parents are being read

		ctx := context.Background()
		shards, err := kc.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("s")})
		if err != nil {
			t.Fatal(err)
		}
		p0 := shards.Shards[0]
		mid := midpoint(t, aws.ToString(p0.HashKeyRange.StartingHashKey), aws.ToString(p0.HashKeyRange.EndingHashKey))
		if _, err := kc.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("s"), ShardToSplit: p0.ShardId, NewStartingHashKey: aws.String(mid)}); err != nil {
			t.Fatal(err)
		}
		phase("p2")
		shards, err = kc.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("s")})
		if err != nil {
			t.Fatal(err)
		}
		var children []string
		for _, s := range shards.Shards {
			if aws.ToString(s.ParentShardId) == aws.ToString(p0.ShardId) {
				children = append(children, aws.ToString(s.ShardId))
			}
		}
		if len(children) != 2 {
			t.Fatalf("split made %d children, want 2", len(children))
		}
		if _, err := kc.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: aws.String("s"), ShardToMerge: aws.String(children[0]), AdjacentShardToMerge: aws.String(children[1])}); err != nil {
			t.Fatal(err)
		}
		phase("p3")

		c.mu.Lock()
		c.want = len(all)
		if c.total >= c.want {
			close(c.done)
			c.done = nil
		}
		c.mu.Unlock()
		c.wait(t, 10*time.Minute)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		got := c.records()
		if pf == 1 {
			checkExactlyOnceInOrder(t, got, all)
		} else {
			checkExactlyOnce(t, got, all)
		}
		checkKeyOrder(t, got, all)
		checkParentsFirst(t, kc, got)
	})
}

// checkParentsFirst asserts that no record of a shard was delivered before
// the last record of each of its parents.
func checkParentsFirst(t *testing.T, kc *kinesistest.Client, got []delivered) {
	t.Helper()
	out, err := kc.ListShards(context.Background(), &kinesis.ListShardsInput{StreamName: aws.String("s")})
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

func midpoint(t *testing.T, lo, hi string) string {
	t.Helper()
	a, ok1 := new(big.Int).SetString(lo, 10)
	b, ok2 := new(big.Int).SetString(hi, 10)
	if !ok1 || !ok2 {
		t.Fatalf("bad hash range %s..%s", lo, hi)
	}
	return a.Add(a, b).Rsh(a, 1).String()
}

func TestReadFaultStorm(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kc := kinesistest.New()
		arn := createStream(t, kc, "s", 3)
		kc.Inject("GetRecords", kinesistest.Every(2), kinesistest.Throttling())
		kc.Inject("GetRecords", kinesistest.Probability(0.2, 7), kinesistest.InternalFailure())
		kc.Inject("GetShardIterator", kinesistest.Every(3), kinesistest.LimitExceeded())
		kc.Inject("ListShards", kinesistest.Every(4), kinesistest.InternalFailure())
		var all []rec
		c := newCollector(0)
		stop := run(t, newMapping(t, kc, arn, c.handle, esm.StartingPosition(esm.TrimHorizon), esm.BatchSize(25)))
		for i := range 20 {
			r := makeRecs(fmt.Sprint("r", i), 100, 20)
			put(t, kc, "s", r)
			all = append(all, r...)
			time.Sleep(700 * time.Millisecond)
			if i%3 == 0 {
				kc.ExpireIterators()
			}
		}
		c.mu.Lock()
		c.want = len(all)
		if c.total >= c.want {
			close(c.done)
			c.done = nil
		}
		c.mu.Unlock()
		c.wait(t, 10*time.Minute)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		checkExactlyOnceInOrder(t, c.records(), all)
	})
}

func TestFailingHandlerBlocksShardThenRecovers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kc := kinesistest.New()
		arn := createStream(t, kc, "s", 1)
		recs := makeRecs("f", 30, 3)
		put(t, kc, "s", recs)
		var seen [][]string
		c := newCollector(len(recs))
		c.onBatch = func(ev events.KinesisEvent) {
			var ids []string
			for _, r := range ev.Records {
				ids = append(ids, r.Kinesis.SequenceNumber)
			}
			seen = append(seen, ids)
		}
		c.fail = func(call int, _ events.KinesisEvent) error {
			switch call {
			case 1, 2:
				return errors.New("boom")
			case 3:
				panic("kaboom")
			}
			return nil
		}
		stop := run(t, newMapping(t, kc, arn, c.handle, esm.StartingPosition(esm.TrimHorizon), esm.BatchSize(10)))
		c.wait(t, time.Minute)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		checkExactlyOnceInOrder(t, c.records(), recs)
		if len(seen) != 6 {
			t.Fatalf("got %d invocations, want 6 (3 failures, 3 batches)", len(seen))
		}
		for i := 1; i < 4; i++ {
			if fmt.Sprint(seen[i]) != fmt.Sprint(seen[0]) {
				t.Errorf("invocation %d got %v, want the failed batch %v again", i+1, seen[i], seen[0])
			}
		}
	})
}

func TestSecondRunReturnsErrMappingClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kc := kinesistest.New()
		arn := createStream(t, kc, "s", 1)
		m := newMapping(t, kc, arn, nopHandler, esm.StartingPosition(esm.TrimHorizon))
		stop := run(t, m)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if err := m.Run(context.Background()); !errors.Is(err, esm.ErrMappingClosed) {
			t.Errorf("second Run: got %v, want ErrMappingClosed", err)
		}
	})
}

func TestRunFailsFastOnMissingStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kc := kinesistest.New()
		m := newMapping(t, kc, "arn:aws:kinesis:us-east-1:123456789012:stream/missing", nopHandler, esm.StartingPosition(esm.TrimHorizon))
		err := m.Run(context.Background())
		if err == nil {
			t.Fatal("Run: got nil, want an error for a missing stream")
		}
	})
}

// Checklist 18: an idle shard is polled about once per second.
func TestIdleShardPolledOncePerSecond(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kc := kinesistest.New()
		arn := createStream(t, kc, "idle", 2)
		stop := run(t, newMapping(t, kc, arn, nopHandler, esm.StartingPosition(esm.TrimHorizon)))
		time.Sleep(10*time.Second - time.Millisecond)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		// One call at start and one per second after it, per shard.
		if got, want := kc.Calls("GetRecords"), 2*10; got != want {
			t.Errorf("GetRecords calls over 10s on 2 idle shards: got %d, want %d", got, want)
		}
	})
}

// Checklist 19: a backlog is processed back to back, not once per poll.
func TestBacklogInvokedBackToBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kc := kinesistest.New()
		arn := createStream(t, kc, "backlog", 1)
		recs := makeRecs("b", 25000, 5)
		put(t, kc, "backlog", recs)
		start := time.Now()
		c := newCollector(len(recs))
		stop := run(t, newMapping(t, kc, arn, c.handle, esm.StartingPosition(esm.TrimHorizon), esm.BatchSize(100)))
		c.wait(t, time.Minute)
		elapsed := time.Since(start)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		// Three pages of at most 10,000 records, behind the tip, so 200 ms
		// apart (Kinesis's 5 calls per second), never the 1 s poll interval.
		if elapsed > 500*time.Millisecond {
			t.Errorf("250 batches took %v, want them back to back within 500ms", elapsed)
		}
		if got := len(c.batchSizes()); got != 250 {
			t.Errorf("got %d batches, want 250", got)
		}
	})
}

// TestReadAheadIsOnePage holds the first batch in the handler and requires
// the shard to have read exactly one page beyond it: the reader fetches the
// next page while the lane invokes, and stops there, so that a shard keeps
// at most two pages in memory for the garbage collector to mark.
func TestReadAheadIsOnePage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kc := kinesistest.New()
		arn := createStream(t, kc, "ahead", 1)
		put(t, kc, "ahead", makeRecs("a", 50000, 1))
		release := make(chan struct{})
		var batches atomic.Int32
		h := func(ctx context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
			if batches.Add(1) == 1 {
				<-release
			}
			return events.KinesisEventResponse{}, nil
		}
		stop := run(t, newMapping(t, kc, arn, h, esm.StartingPosition(esm.TrimHorizon), esm.BatchSize(10000)))
		time.Sleep(10 * time.Second)
		if got := kc.Calls("GetRecords"); got != 2 {
			t.Errorf("GetRecords calls while the first batch is invoked: got %d, want 2 (its page and the next)", got)
		}
		close(release)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	})
}
