package esm_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/esmkit/esmkit/checkpoint"
	"github.com/esmkit/esmkit/checkpoint/driver"
	"github.com/esmkit/esmkit/checkpoint/memcheckpoint"
	"github.com/esmkit/esmkit/esm"
	"github.com/esmkit/esmkit/internal/seqnum"
	"github.com/esmkit/esmkit/kinesistest"
)

// watchedDriver calls check before every Save reaches the memory driver.
type watchedDriver struct {
	driver.Store
	check func(key driver.Key, rec driver.Record)
}

func (w *watchedDriver) Save(ctx context.Context, key driver.Key, rec driver.Record, prev int64) error {
	w.check(key, rec)
	return w.Store.Save(ctx, key, rec, prev)
}

// TestParallelizationModel runs random keys, handler latencies and failures
// through lanes and checks, against the records the handler has finished,
// that each partition key is delivered in order and that no checkpoint
// passes a record that is not finished.
func TestParallelizationModel(t *testing.T) {
	for _, tc := range []struct{ pf, shards, keys, seed int }{
		{1, 1, 7, 1}, {2, 1, 5, 2}, {4, 2, 40, 3}, {10, 2, 100, 4}, {10, 1, 3, 5},
	} {
		t.Run(fmt.Sprintf("pf=%d/shards=%d/keys=%d", tc.pf, tc.shards, tc.keys), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				parallelModel(t, tc.pf, tc.shards, tc.keys, uint64(tc.seed))
			})
		})
	}
}

func parallelModel(t *testing.T, pf, shards, keys int, seed uint64) {
	kc := kinesistest.New()
	arn := createStream(t, kc, "model", shards)
	recs := makeRecs("m", 600*shards, keys)
	put(t, kc, "model", recs)
	var (
		mu       sync.Mutex
		finished = map[string]bool{} // shard:seq handled successfully
		inFlight = map[string]int{}  // per shard
		maxIn    = map[string]int{}
		rng      = rand.New(rand.NewPCG(seed, 99))
		saves    int
	)
	byShard := map[string][]string{}
	for _, r := range recs {
		byShard[r.ShardID] = append(byShard[r.ShardID], r.Seq)
	}
	drv := &watchedDriver{Store: memcheckpoint.New(), check: func(key driver.Key, rec driver.Record) {
		mu.Lock()
		defer mu.Unlock()
		saves++
		for _, s := range byShard[key.ShardID] {
			if seqnum.Compare(s, rec.SequenceNumber) <= 0 && !finished[key.ShardID+":"+s] {
				t.Errorf("checkpoint %s of %s passes unfinished record %s", rec.SequenceNumber, key.ShardID, s)
				return
			}
		}
	}}
	store, err := checkpoint.New(drv)
	if err != nil {
		t.Fatal(err)
	}
	c := newCollector(len(recs))
	c.fail = func(_ int, ev events.KinesisEvent) error {
		id, _, _ := cut(ev.Records[0].EventID)
		mu.Lock()
		inFlight[id]++
		maxIn[id] = max(maxIn[id], inFlight[id])
		d := time.Duration(rng.IntN(50)) * time.Millisecond
		fail := rng.IntN(5) == 0
		mu.Unlock()
		time.Sleep(d)
		mu.Lock()
		inFlight[id]--
		if !fail {
			for _, r := range ev.Records {
				finished[id+":"+r.Kinesis.SequenceNumber] = true
			}
		}
		mu.Unlock()
		if fail {
			return errors.New("random failure")
		}
		return nil
	}
	stop := run(t, newMapping(t, kc, arn, c.handle, esm.StartingPosition(esm.TrimHorizon), esm.BatchSize(10),
		esm.ParallelizationFactor(pf), esm.CheckpointStore(store), esm.RetryBackoff(time.Millisecond, 10*time.Millisecond)))
	c.wait(t, 10*time.Minute)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	got := c.records()
	checkExactlyOnce(t, got, recs)
	checkKeyOrder(t, got, recs)
	if pf == 1 {
		checkExactlyOnceInOrder(t, got, recs)
	}
	mu.Lock()
	defer mu.Unlock()
	for id, n := range maxIn {
		if n > pf {
			t.Errorf("shard %s: %d batches in flight at once, want at most %d", id, n, pf)
		}
		if pf > 1 && keys >= pf && n < 2 {
			t.Errorf("shard %s: at most %d batch in flight, want concurrency with factor %d", id, n, pf)
		}
	}
	if saves == 0 {
		t.Error("no checkpoint was saved")
	}
	// The final checkpoint of each shard is its last record.
	for id, seqs := range byShard {
		cp, _, err := store.Load(context.Background(), checkpoint.Key{Mapping: arn, ShardID: id})
		if err != nil {
			t.Fatal(err)
		}
		if want := seqs[len(seqs)-1]; cp.SequenceNumber != want {
			t.Errorf("shard %s: final checkpoint %s, want the last record %s", id, cp.SequenceNumber, want)
		}
	}
}

// TestParallelizationFactorOneIsSequential is checklist 27: with factor 1,
// batch k+1 of a shard is not invoked while batch k is in flight.
func TestParallelizationFactorOneIsSequential(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kc := kinesistest.New()
		arn := createStream(t, kc, "s", 1)
		recs := makeRecs("s", 200, 50)
		put(t, kc, "s", recs)
		c := newCollector(len(recs))
		c.onBatch = func(events.KinesisEvent) { time.Sleep(10 * time.Millisecond) }
		stop := run(t, newMapping(t, kc, arn, c.handle, esm.StartingPosition(esm.TrimHorizon), esm.BatchSize(10)))
		c.wait(t, time.Minute)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if c.maxIn != 1 {
			t.Errorf("got %d batches in flight at once, want 1", c.maxIn)
		}
	})
}

func TestParallelRestartLosesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kc := kinesistest.New()
		arn := createStream(t, kc, "pr", 2)
		recs := makeRecs("r", 2000, 200)
		put(t, kc, "pr", recs)
		store := newStore(t)
		opts := []esm.Option{esm.StartingPosition(esm.TrimHorizon), esm.BatchSize(10), esm.ParallelizationFactor(10), esm.CheckpointStore(store)}
		slow := func(events.KinesisEvent) { time.Sleep(time.Duration(rand.IntN(20)) * time.Millisecond) }

		first := newCollector(len(recs) / 3)
		first.onBatch = slow
		stop := run(t, newMapping(t, kc, arn, first.handle, opts...))
		first.wait(t, time.Minute)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		saved := map[string]string{}
		for _, id := range shardsOf(recs) {
			cp, _, err := store.Load(context.Background(), checkpoint.Key{Mapping: arn, ShardID: id})
			if err != nil {
				t.Fatal(err)
			}
			saved[id] = cp.SequenceNumber
		}
		rest := remaining(recs, saved)
		second := newCollector(len(rest))
		second.onBatch = slow
		stop = run(t, newMapping(t, kc, arn, second.handle, opts...))
		second.wait(t, time.Minute)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		// Run 2 delivers exactly what lies after the checkpoint, each key in
		// order; together the runs cover every record.
		checkExactlyOnce(t, second.records(), rest)
		checkKeyOrder(t, second.records(), rest)
		if !covered(first.records(), second.records(), recs) {
			t.Error("records lost across the restart")
		}
		if len(rest) == len(recs) || len(rest) == 0 {
			t.Errorf("%d of %d records after the checkpoint; want the stop mid-stream", len(rest), len(recs))
		}
	})
}
