package esm_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/esmkit/esmkit/esm"
	"github.com/esmkit/esmkit/kinesistest"
)

// stateLog records state changes through a StateHook.
type stateLog struct {
	mu     sync.Mutex
	states []esm.State
}

func (l *stateLog) OnStateChange(_, to esm.State) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.states = append(l.states, to)
}

func (l *stateLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return fmt.Sprint(l.states)
}

// Checklist 15 and 75: a disabled mapping neither polls nor invokes, and
// Enable resumes right after the last processed record, whatever
// StartingPosition says.
func TestDisableEnableResumesExactly(t *testing.T) {
	for _, pf := range []int{1, 4} {
		t.Run(fmt.Sprintf("ParallelizationFactor=%d", pf), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				kc := kinesistest.New()
				arn := createStream(t, kc, "s", 2)
				put(t, kc, "s", makeRecs("old", 200, 20)) // before the start: LATEST skips them
				first := makeRecs("a", 200, 20)
				var states stateLog
				c := newCollector(len(first))
				m := newMapping(t, kc, arn, c.handle, esm.StartingPosition(esm.Latest), esm.BatchSize(10),
					esm.ParallelizationFactor(pf), esm.Hooks(&states))
				stop := run(t, m)
				synctest.Wait() // every shard has its LATEST iterator
				put(t, kc, "s", first)
				c.wait(t, time.Minute)
				ctx := context.Background()
				if err := m.Disable(ctx); err != nil {
					t.Fatal(err)
				}
				if got := m.State(); got != esm.StateDisabled {
					t.Fatalf("State after Disable: got %s, want Disabled", got)
				}
				calls := kc.Calls("GetRecords")
				invocations := m.Stats().Invocations
				second := makeRecs("b", 200, 20)
				put(t, kc, "s", second)
				time.Sleep(time.Minute)
				if got := kc.Calls("GetRecords"); got != calls {
					t.Errorf("GetRecords calls while disabled: %d, want none", got-calls)
				}
				if got := m.Stats().Invocations; got != invocations {
					t.Errorf("invocations while disabled: %d, want none", got-invocations)
				}
				c.mu.Lock()
				c.want, c.done = len(first)+len(second), make(chan struct{})
				c.mu.Unlock()
				if err := m.Enable(ctx); err != nil {
					t.Fatal(err)
				}
				c.wait(t, time.Minute)
				time.Sleep(5 * time.Second)
				if err := stop(); err != nil {
					t.Fatal(err)
				}
				checkExactlyOnce(t, c.records(), append(append([]rec(nil), first...), second...))
				if got, want := states.String(), "[Enabled Disabling Disabled Enabling Enabled Deleting]"; got != want {
					t.Errorf("states: got %s, want %s", got, want)
				}
			})
		})
	}
}

func TestStartDisabled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kc := kinesistest.New()
		arn := createStream(t, kc, "s", 1)
		recs := makeRecs("a", 10, 2)
		put(t, kc, "s", recs)
		c := newCollector(len(recs))
		m := newMapping(t, kc, arn, c.handle, esm.StartingPosition(esm.TrimHorizon), esm.Enabled(false))
		if got := m.State(); got != esm.StateCreating {
			t.Errorf("State after New: got %s, want Creating", got)
		}
		stop := run(t, m)
		time.Sleep(time.Minute)
		if got := m.State(); got != esm.StateDisabled {
			t.Errorf("State: got %s, want Disabled", got)
		}
		if got := kc.Calls("ListShards") + kc.Calls("GetRecords"); got != 0 {
			t.Errorf("Kinesis calls while disabled: %d, want 0", got)
		}
		if got := m.LastProcessingResult(); got != esm.ResultNoRecords {
			t.Errorf("LastProcessingResult: got %q, want %q", got, esm.ResultNoRecords)
		}
		if err := m.Enable(context.Background()); err != nil {
			t.Fatal(err)
		}
		c.wait(t, time.Minute)
		if got := m.LastProcessingResult(); got != esm.ResultOK {
			t.Errorf("LastProcessingResult: got %q, want %q", got, esm.ResultOK)
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		checkExactlyOnceInOrder(t, c.records(), recs)
		if err := m.Enable(context.Background()); !errors.Is(err, esm.ErrMappingClosed) {
			t.Errorf("Enable after Run: got %v, want ErrMappingClosed", err)
		}
		if got := m.State(); got != esm.StateDeleting {
			t.Errorf("State after Run: got %s, want Deleting", got)
		}
	})
}

// TestUpdateWhileRunning changes batch size, filter and parallelization
// mid-stream: no record is lost or repeated, and the new settings apply.
func TestUpdateWhileRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kc := kinesistest.New()
		arn := createStream(t, kc, "s", 2)
		var states stateLog
		var mu sync.Mutex
		var sizes []int
		c := newCollector(0)
		c.onBatch = func(ev events.KinesisEvent) {
			mu.Lock()
			sizes = append(sizes, len(ev.Records))
			mu.Unlock()
		}
		m := newMapping(t, kc, arn, c.handle, esm.StartingPosition(esm.TrimHorizon), esm.BatchSize(5), esm.Hooks(&states))
		stop := run(t, m)
		var all []rec
		for i := range 10 {
			r := makeRecs(fmt.Sprint("u", i), 50, 10)
			put(t, kc, "s", r)
			all = append(all, r...)
			time.Sleep(300 * time.Millisecond)
			if i == 4 {
				if err := m.Update(context.Background(), esm.BatchSize(50), esm.ParallelizationFactor(3)); err != nil {
					t.Fatal(err)
				}
				mu.Lock()
				sizes = nil
				mu.Unlock()
			}
		}
		c.mu.Lock()
		c.want, c.done = len(all), make(chan struct{})
		if c.total >= c.want {
			close(c.done)
			c.done = nil
		}
		c.mu.Unlock()
		c.wait(t, time.Minute)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		checkExactlyOnce(t, c.records(), all)
		checkKeyOrder(t, c.records(), all)
		mu.Lock()
		defer mu.Unlock()
		bigger := false
		for _, n := range sizes {
			bigger = bigger || n > 5
		}
		if !bigger {
			t.Errorf("batch sizes after Update %v, want some above the old BatchSize 5", sizes)
		}
		if got, want := states.String(), "[Enabled Updating Enabled Deleting]"; got != want {
			t.Errorf("states: got %s, want %s", got, want)
		}
	})
}

func TestUpdateValidates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kc := kinesistest.New()
		arn := createStream(t, kc, "s", 1)
		m := newMapping(t, kc, arn, nopHandler, esm.StartingPosition(esm.TrimHorizon))
		stop := run(t, m)
		defer stop()
		synctest.Wait()
		ctx := context.Background()
		for _, opt := range []esm.Option{esm.BatchSize(0), esm.Name("other"), esm.CheckpointStore(newStore(t)), esm.FilterCriteria(`{"data": x}`)} {
			if err := m.Update(ctx, opt); !errors.Is(err, esm.ErrInvalidOption) {
				t.Errorf("Update: got %v, want ErrInvalidOption", err)
			}
		}
		if got := m.State(); got != esm.StateEnabled {
			t.Errorf("State after rejected updates: got %s, want Enabled", got)
		}
	})
}

// recorder is a hook implementing every hook interface.
type recorder struct {
	mu                              sync.Mutex
	batches, polls, discards, ckpts int
	records, lastFiltered, errs     int
	maxAge                          time.Duration
}

func (r *recorder) OnBatch(e esm.BatchEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches++
	r.records += e.Records
	r.maxAge = max(r.maxAge, e.IteratorAge)
	if e.Err != nil {
		r.errs++
	}
}
func (r *recorder) OnPoll(e esm.PollEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.polls++
	r.lastFiltered += e.Filtered
}
func (r *recorder) OnDiscard(esm.DiscardEvent) { r.mu.Lock(); r.discards++; r.mu.Unlock() }
func (r *recorder) OnCheckpoint(esm.CheckpointEvent) {
	r.mu.Lock()
	r.ckpts++
	r.mu.Unlock()
}

func TestHooksAndStatus(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kc := kinesistest.New()
		arn := createStream(t, kc, "s", 2)
		recs := makeRecs("h", 100, 10)
		put(t, kc, "s", recs)
		time.Sleep(3 * time.Second) // the records are 3 s old when invoked
		var h recorder
		c := newCollector(0)
		c.fail = func(call int, _ events.KinesisEvent) error {
			if call == 1 {
				return errBoom
			}
			return nil
		}
		m := newMapping(t, kc, arn, c.handle, esm.StartingPosition(esm.TrimHorizon), esm.BatchSize(10), esm.Hooks(&h))
		stop := run(t, m)
		time.Sleep(10 * time.Second)
		st := m.Shards()
		if len(st) != 2 {
			t.Fatalf("Shards: got %d, want 2", len(st))
		}
		for _, s := range st {
			if s.Checkpoint == "" || s.Pending != 0 || s.Lanes != 1 || s.InFlight != 0 {
				t.Errorf("status %+v: want a checkpoint, nothing pending, 1 lane idle", s)
			}
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.records != 110 || h.errs != 1 || h.batches != 11 {
			t.Errorf("batch hook saw %d batches, %d records, %d errors; want 11, 110, 1", h.batches, h.records, h.errs)
		}
		if h.maxAge < 3*time.Second {
			t.Errorf("largest iterator age %v, want at least 3s", h.maxAge)
		}
		if h.polls == 0 || h.ckpts == 0 {
			t.Errorf("poll hook %d, checkpoint hook %d calls; want some", h.polls, h.ckpts)
		}
		if st := m.Stats(); st.Errors != 1 || st.InvokedEventCount != 110 || st.PolledEventCount != 100 {
			t.Errorf("stats %+v: want 1 error, 110 invoked, 100 polled", st)
		}
	})
}
