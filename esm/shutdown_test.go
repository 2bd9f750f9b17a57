package esm_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/esmkit/esmkit/checkpoint"
	"github.com/esmkit/esmkit/checkpoint/memcheckpoint"
	"github.com/esmkit/esmkit/esm"
	"github.com/esmkit/esmkit/internal/seqnum"
	"github.com/esmkit/esmkit/kinesistest"
)

func newStore(t testing.TB) *checkpoint.Store {
	t.Helper()
	s, err := checkpoint.New(memcheckpoint.New())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// restartSuite stops a mapping mid-stream and starts a new one on the same
// store: every record is delivered, in order per shard within each run, and
// the only duplicates are records after the checkpoint at the stop.
func restartSuite(t *testing.T, api streamAPI, name string, shards int, opts ...esm.Option) {
	arn := createStream(t, api, name, shards)
	recs := makeRecs("r", 400*shards, 40)
	put(t, api, name, recs)
	store := newStore(t)
	opts = append([]esm.Option{esm.StartingPosition(esm.TrimHorizon), esm.BatchSize(20), esm.CheckpointStore(store)}, opts...)

	// Run 1 stops after a quarter of the records.
	first := newCollector(len(recs) / 4)
	stop := run(t, newMapping(t, api, arn, first.handle, opts...))
	first.wait(t, 2*time.Minute)
	if err := stop(); err != nil {
		t.Fatalf("Run 1: %v", err)
	}
	saved := map[string]string{}
	for _, id := range shardsOf(recs) {
		cp, found, err := store.Load(context.Background(), checkpoint.Key{Mapping: arn, ShardID: id})
		if err != nil {
			t.Fatal(err)
		}
		if found {
			saved[id] = cp.SequenceNumber
		}
	}
	got1 := first.records()
	// The checkpoint covers exactly what run 1 finished, per shard.
	lastDone := map[string]string{}
	for _, d := range got1 {
		lastDone[d.ShardID] = d.Seq
	}
	for id, seq := range lastDone {
		if saved[id] != seq {
			t.Errorf("shard %s: checkpoint %q after stop, want the last finished record %q", id, saved[id], seq)
		}
	}

	// Run 2 resumes on the same store.
	second := newCollector(0)
	second.want = 1 << 30
	stop = run(t, newMapping(t, api, arn, second.handle, opts...))
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if covered(got1, second.records(), recs) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("run 2 did not deliver the rest: %d + %d of %d", len(got1), len(second.records()), len(recs))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := stop(); err != nil {
		t.Fatalf("Run 2: %v", err)
	}
	got2 := second.records()
	checkExactlyOnceInOrder(t, dedupe(got1, got2), recs)
	for _, d := range got2 {
		if cp, ok := saved[d.ShardID]; ok && !seqnum.Less(cp, d.Seq) {
			t.Errorf("run 2 delivered %s:%s, at or before the checkpoint %s", d.ShardID, d.Seq, cp)
		}
	}
	checkExactlyOnceInOrder(t, got2, remaining(recs, saved))
}

func covered(a, b []delivered, want []rec) bool {
	seen := map[string]bool{}
	for _, d := range append(append([]delivered(nil), a...), b...) {
		seen[d.ShardID+":"+d.Seq] = true
	}
	for _, r := range want {
		if !seen[r.ShardID+":"+r.Seq] {
			return false
		}
	}
	return true
}

// dedupe returns a then the records of b not in a, keeping order.
func dedupe(a, b []delivered) []delivered {
	seen := map[string]bool{}
	out := append([]delivered(nil), a...)
	for _, d := range a {
		seen[d.ShardID+":"+d.Seq] = true
	}
	// Records of b already in a are the permitted duplicates; keep the
	// rest in b's order, after a's, so per-shard order still holds.
	for _, d := range b {
		if !seen[d.ShardID+":"+d.Seq] {
			out = append(out, d)
		}
	}
	return out
}

// remaining returns the records after each shard's checkpoint.
func remaining(recs []rec, saved map[string]string) []rec {
	var out []rec
	for _, r := range recs {
		if cp, ok := saved[r.ShardID]; !ok || seqnum.Less(cp, r.Seq) {
			out = append(out, r)
		}
	}
	return out
}

func TestStopAndRestartOnSameStore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		restartSuite(t, kinesistest.New(), "restart", 4)
	})
}

func TestShutdownDrainsInFlightBatch(t *testing.T) {
	tests := []struct {
		name          string
		shutdown      time.Duration
		handlerTakes  time.Duration
		wantCancelled bool
		wantSaved     bool
	}{
		{"finishes within the drain time", 10 * time.Second, 3 * time.Second, false, true},
		{"cancelled after the drain time", 2 * time.Second, time.Minute, true, false},
		{"zero drain cancels at once", 0, time.Minute, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				kc := kinesistest.New()
				arn := createStream(t, kc, "s", 1)
				recs := makeRecs("d", 5, 1)
				put(t, kc, "s", recs)
				store := newStore(t)
				started := make(chan struct{})
				var cancelled bool
				var ran time.Duration
				h := func(ctx context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
					close(started)
					t0 := time.Now()
					defer func() { ran = time.Since(t0) }()
					select {
					case <-time.After(tc.handlerTakes):
						return events.KinesisEventResponse{}, nil
					case <-ctx.Done():
						cancelled = true
						return events.KinesisEventResponse{}, ctx.Err()
					}
				}
				stop := run(t, newMapping(t, kc, arn, h, esm.StartingPosition(esm.TrimHorizon),
					esm.CheckpointStore(store), esm.ShutdownTimeout(tc.shutdown)))
				<-started
				if err := stop(); err != nil {
					t.Fatalf("Run: %v", err)
				}
				if cancelled != tc.wantCancelled {
					t.Errorf("handler context cancelled: got %v, want %v (ran %v)", cancelled, tc.wantCancelled, ran)
				}
				if tc.wantCancelled && ran != tc.shutdown {
					t.Errorf("handler ran %v before cancellation, want the drain time %v", ran, tc.shutdown)
				}
				cp, found, err := store.Load(context.Background(), checkpoint.Key{Mapping: arn, ShardID: recs[0].ShardID})
				if err != nil {
					t.Fatal(err)
				}
				if saved := found && cp.SequenceNumber == recs[4].Seq; saved != tc.wantSaved {
					t.Errorf("checkpoint after stop: got %+v (found %v), want saved=%v", cp, found, tc.wantSaved)
				}
			})
		})
	}
}

func TestFunctionTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kc := kinesistest.New()
		arn := createStream(t, kc, "s", 1)
		put(t, kc, "s", makeRecs("t", 1, 1))
		var mu sync.Mutex
		var deadlines []time.Duration
		c := newCollector(1)
		c.onBatch = func(ev events.KinesisEvent) {}
		h := func(ctx context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
			dl, ok := ctx.Deadline()
			if !ok {
				t.Error("handler context has no deadline")
			}
			mu.Lock()
			deadlines = append(deadlines, time.Until(dl))
			n := len(deadlines)
			mu.Unlock()
			if n == 1 {
				<-ctx.Done() // the first invocation times out: a function error
				return events.KinesisEventResponse{}, ctx.Err()
			}
			return c.handle(ctx, ev)
		}
		stop := run(t, newMapping(t, kc, arn, h, esm.StartingPosition(esm.TrimHorizon), esm.FunctionTimeout(3*time.Second)))
		c.wait(t, time.Minute)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(deadlines) != 2 || deadlines[0] != 3*time.Second {
			t.Errorf("deadlines: got %v, want two invocations with 3s each", deadlines)
		}
	})
}

// TestNoGoroutineLeftAfterRun runs outside synctest, with real time, and
// checks the process's goroutines directly.
func TestNoGoroutineLeftAfterRun(t *testing.T) {
	before := esmGoroutines()
	kc := kinesistest.New()
	arn := createStream(t, kc, "leak", 4)
	recs := makeRecs("l", 400, 10)
	put(t, kc, "leak", recs)
	c := newCollector(len(recs))
	stop := run(t, newMapping(t, kc, arn, c.handle, esm.StartingPosition(esm.TrimHorizon), esm.ReadRateLimit(0)))
	c.wait(t, time.Minute)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	// A goroutine that has signalled Run that it is done may still be
	// returning when Run does: wait for it, but not for one that stays.
	deadline := time.Now().Add(5 * time.Second)
	for got := esmGoroutines(); got > before; got = esmGoroutines() {
		if time.Now().After(deadline) {
			t.Fatalf("goroutines in esmkit code 5 s after Run: got %d, want %d\n%s", got, before, stacks())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func esmGoroutines() int {
	n := 0
	for _, g := range strings.Split(stacks(), "\n\n") {
		if strings.Contains(g, "esmkit/esmkit/esm.") || strings.Contains(g, "esmkit/esmkit/shard.") {
			n++
		}
	}
	return n
}

func stacks() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

func TestRunReturnsContextErrorsAsNil(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kc := kinesistest.New()
		arn := createStream(t, kc, "s", 1)
		m := newMapping(t, kc, arn, nopHandler, esm.StartingPosition(esm.TrimHorizon))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := m.Run(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Run: %v", err)
		} else if err != nil {
			t.Errorf("Run after deadline: got %v, want nil", err)
		}
	})
}
