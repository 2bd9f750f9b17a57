package esm_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/esmkit/esmkit/checkpoint"
	"github.com/esmkit/esmkit/esm"
	"github.com/esmkit/esmkit/kinesistest"
	"github.com/esmkit/esmkit/window"
)

// winCall is one invocation of a window handler, as seen by it.
type winCall struct {
	start, end   time.Time
	n            int
	state        string
	final, early bool
	shardID, arn string
}

// counter is a window handler that counts records per window in its state
// as {"count":"<n>"} and records every call. fail, if set, may fail a call.
type counter struct {
	mu    sync.Mutex
	calls []winCall
	fail  func(c winCall) error
	big   bool // return an oversized state once
	sums  map[time.Time]int
}

func (c *counter) handle(_ context.Context, ev window.Event) (window.Response, error) {
	var st map[string]string
	_ = json.Unmarshal(ev.State, &st)
	n, _ := strconv.Atoi(st["count"])
	call := winCall{start: ev.Window.Start, end: ev.Window.End, n: len(ev.Records), state: string(ev.State),
		final: ev.IsFinalInvokeForWindow, early: ev.IsWindowTerminatedEarly, shardID: ev.ShardID, arn: ev.EventSourceARN}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, call)
	if c.fail != nil {
		if err := c.fail(call); err != nil {
			return window.Response{}, err
		}
	}
	if call.final {
		if c.sums == nil {
			c.sums = map[time.Time]int{}
		}
		c.sums[call.start] += n
		return window.Response{State: json.RawMessage(`{}`)}, nil
	}
	n += len(ev.Records)
	state := fmt.Sprintf(`{"count":"%d"}`, n)
	if c.big {
		c.big = false
		state = `{"count":"` + strconv.Itoa(n) + `","pad":"` + strings.Repeat("x", 1<<20) + `"}`
	}
	return window.Response{State: json.RawMessage(state)}, nil
}

func (c *counter) snapshot() []winCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]winCall(nil), c.calls...)
}

// Checklist 66–68: every invocation carries the window, shard and ARN and
// the state the previous one returned; the final invocation comes after the
// late wait, and the next window starts fresh.
func TestTumblingWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kc := kinesistest.New()
		arn := createStream(t, kc, "w", 1)
		c := &counter{}
		m, err := esm.NewWindowed(kc, arn, c.handle, esm.StartingPosition(esm.TrimHorizon),
			esm.TumblingWindow(2*time.Minute), esm.BatchSize(3))
		if err != nil {
			t.Fatal(err)
		}
		// Align to a window boundary, then put 7 records spread over the
		// first minute of a 2-minute window.
		now := time.Now()
		time.Sleep(now.Truncate(2 * time.Minute).Add(2 * time.Minute).Sub(now))
		w0 := time.Now().UTC()
		stop := run(t, m)
		for i := range 7 {
			put(t, kc, "w", []rec{{Key: "k", Data: fmt.Sprint(i)}})
			time.Sleep(5 * time.Second)
		}
		// The window ends at w0+2m; after the 2-minute late wait the final
		// invocation comes. Then one more record opens a new window.
		time.Sleep(4 * time.Minute)
		put(t, kc, "w", []rec{{Key: "k", Data: "next"}})
		time.Sleep(10 * time.Second)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		calls := c.snapshot()
		records := 0
		var final *winCall
		for i, call := range calls {
			if !call.start.Equal(w0) && final == nil {
				t.Fatalf("call %d in window %v before the final invocation of %v", i, call.start, w0)
			}
			if call.shardID == "" || call.arn != arn {
				t.Errorf("call %d: shardId %q, eventSourceARN %q", i, call.shardID, call.arn)
			}
			if call.final {
				final = &calls[i]
				if call.n != 0 {
					t.Errorf("final invocation has %d records, want 0", call.n)
				}
				if call.state != fmt.Sprintf(`{"count":"%d"}`, records) {
					t.Errorf("final invocation state %s, want the count of %d records", call.state, records)
				}
				continue
			}
			if final == nil {
				want := `{}`
				if records > 0 {
					want = fmt.Sprintf(`{"count":"%d"}`, records)
				}
				if call.state != want {
					t.Errorf("call %d: state %s, want %s (the previous call's)", i, call.state, want)
				}
				if !call.end.Equal(w0.Add(2 * time.Minute)) {
					t.Errorf("call %d: window end %v, want %v", i, call.end, w0.Add(2*time.Minute))
				}
				records += call.n
			} else if call.state != `{}` {
				t.Errorf("first call of the next window: state %s, want {}", call.state)
			}
		}
		if final == nil {
			t.Fatal("no final invocation")
		}
		if records != 7 {
			t.Errorf("window got %d records, want 7", records)
		}
	})
}

// Checklist 67: a response without state fails the invocation; it is
// retried with the same state.
func TestWindowResponseWithoutStateFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kc := kinesistest.New()
		arn := createStream(t, kc, "w", 1)
		put(t, kc, "w", makeRecs("s", 3, 1))
		first := true
		h := func(_ context.Context, ev window.Event) (window.Response, error) {
			if first {
				first = false
				return window.Response{}, nil // no state
			}
			return window.Response{State: json.RawMessage(`{"ok":"1"}`)}, nil
		}
		var calls []string
		wrapped := func(ctx context.Context, ev window.Event) (window.Response, error) {
			calls = append(calls, fmt.Sprintf("%d:%s", len(ev.Records), ev.State))
			return h(ctx, ev)
		}
		m, err := esm.NewWindowed(kc, arn, wrapped, esm.StartingPosition(esm.TrimHorizon), esm.TumblingWindow(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		stop := run(t, m)
		time.Sleep(30 * time.Second)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if len(calls) < 2 || calls[0] != "3:{}" || calls[1] != "3:{}" {
			t.Errorf("calls %v, want the batch invoked again with the same empty state", calls)
		}
		if m.Stats().Errors != 1 {
			t.Errorf("errors %d, want 1", m.Stats().Errors)
		}
	})
}

// Checklist 69: a state over 1 MB ends the window early; the next call has
// isWindowTerminatedEarly and a fresh state.
func TestWindowStateTooLarge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kc := kinesistest.New()
		arn := createStream(t, kc, "w", 1)
		c := &counter{big: true}
		m, err := esm.NewWindowed(kc, arn, c.handle, esm.StartingPosition(esm.TrimHorizon),
			esm.TumblingWindow(15*time.Minute), esm.BatchSize(2))
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		time.Sleep(now.Truncate(15 * time.Minute).Add(15 * time.Minute).Sub(now))
		put(t, kc, "w", makeRecs("b", 4, 1))
		stop := run(t, m)
		time.Sleep(time.Minute)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		calls := c.snapshot()
		if len(calls) < 2 || !calls[1].early || calls[1].state != `{}` || !calls[1].start.Equal(calls[0].start) {
			t.Errorf("calls %+v: want the second call in the same window, terminated early, with {}", calls)
		}
	})
}

// Checklist 70: a split closes the parent's window; children start fresh.
func TestWindowClosedAtShardEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kc := kinesistest.New()
		arn := createStream(t, kc, "w", 1)
		c := &counter{}
		m, err := esm.NewWindowed(kc, arn, c.handle, esm.StartingPosition(esm.TrimHorizon),
			esm.TumblingWindow(15*time.Minute), esm.ShardRefreshInterval(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		put(t, kc, "w", makeRecs("p", 10, 5))
		stop := run(t, m)
		time.Sleep(10 * time.Second)
		splitFirst(t, kc, "w")
		put(t, kc, "w", makeRecs("c", 10, 5))
		time.Sleep(30 * time.Second)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		calls := c.snapshot()
		parent := calls[0].shardID
		sawFinal := false
		for _, call := range calls {
			if call.shardID == parent && call.final {
				sawFinal = true
			}
			if call.shardID != parent && !call.final && call.state != `{}` && strings.Contains(call.state, `"count":"0"`) {
				t.Errorf("child call with state %s", call.state)
			}
		}
		if !sawFinal {
			t.Errorf("parent %s window never got its final invocation: %+v", parent, calls)
		}
		for _, call := range calls {
			if call.shardID != parent {
				if call.state != `{}` && !strings.HasPrefix(call.state, `{"count":`) {
					t.Errorf("child call state %s", call.state)
				}
			}
		}
		// The first call of each child starts fresh.
		seen := map[string]bool{}
		for _, call := range calls {
			if call.shardID != parent && !seen[call.shardID] {
				seen[call.shardID] = true
				if call.state != `{}` {
					t.Errorf("first call of child %s has state %s, want {}", call.shardID, call.state)
				}
			}
		}
		if len(seen) == 0 {
			t.Error("no child shard was invoked")
		}
	})
}

// TestWindowSurvivesRestart: the window's state is stored with the
// checkpoint, so a new Run on the same store continues the window.
func TestWindowSurvivesRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kc := kinesistest.New()
		arn := createStream(t, kc, "w", 1)
		store := newStore(t)
		opts := []esm.Option{esm.StartingPosition(esm.TrimHorizon), esm.TumblingWindow(15 * time.Minute), esm.CheckpointStore(store)}
		now := time.Now()
		time.Sleep(now.Truncate(15 * time.Minute).Add(15 * time.Minute).Sub(now))
		put(t, kc, "w", makeRecs("a", 5, 1))
		c1 := &counter{}
		m1, err := esm.NewWindowed(kc, arn, c1.handle, opts...)
		if err != nil {
			t.Fatal(err)
		}
		stop := run(t, m1)
		time.Sleep(10 * time.Second)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		cp, _, err := store.Load(context.Background(), checkpoint.Key{Mapping: arn, ShardID: "shardId-000000000000"})
		if err != nil || len(cp.State) == 0 {
			t.Fatalf("checkpoint %+v, %v: want window state stored", cp, err)
		}
		put(t, kc, "w", makeRecs("b", 3, 1))
		c2 := &counter{}
		m2, err := esm.NewWindowed(kc, arn, c2.handle, opts...)
		if err != nil {
			t.Fatal(err)
		}
		stop = run(t, m2)
		time.Sleep(10 * time.Second)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		calls := c2.snapshot()
		if len(calls) == 0 || calls[0].state != `{"count":"5"}` || calls[0].n != 3 {
			t.Errorf("first call after restart %+v, want the 3 new records with state count 5", calls)
		}
	})
}

func TestWindowOptionValidation(t *testing.T) {
	kc := kinesistest.New()
	trim := esm.StartingPosition(esm.TrimHorizon)
	wh := func(context.Context, window.Event) (window.Response, error) { return window.Response{}, nil }
	cases := []struct {
		name string
		err  func() error
		want string
	}{
		{"New with a window", func() error {
			_, err := esm.New(kc, testARN, nopHandler, trim, esm.TumblingWindow(time.Minute))
			return err
		}, "use NewWindowed"},
		{"NewWindowed without a window", func() error { _, err := esm.NewWindowed(kc, testARN, wh, trim); return err }, "needs TumblingWindow"},
		{"901 s", func() error {
			_, err := esm.NewWindowed(kc, testARN, wh, trim, esm.TumblingWindow(901*time.Second))
			return err
		}, "TumblingWindow 15m1s not 0 or whole seconds in [1s, 15m0s]"},
		{"fraction", func() error {
			_, err := esm.NewWindowed(kc, testARN, wh, trim, esm.TumblingWindow(1500*time.Millisecond))
			return err
		}, "TumblingWindow 1.5s"},
		{"900 s", func() error {
			_, err := esm.NewWindowed(kc, testARN, wh, trim, esm.TumblingWindow(900*time.Second))
			return err
		}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.err()
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, esm.ErrInvalidOption) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want ErrInvalidOption containing %q", err, tc.want)
			}
		})
	}
}

var _ = events.KinesisEvent{}

// splitFirst splits the stream's first shard at the middle of its range.
func splitFirst(t *testing.T, kc *kinesistest.Client, name string) {
	t.Helper()
	ctx := context.Background()
	out, err := kc.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	s := out.Shards[0]
	mid := midpoint(t, aws.ToString(s.HashKeyRange.StartingHashKey), aws.ToString(s.HashKeyRange.EndingHashKey))
	if _, err := kc.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String(name), ShardToSplit: s.ShardId, NewStartingHashKey: aws.String(mid)}); err != nil {
		t.Fatal(err)
	}
}

// TestWindowPerLane: with ParallelizationFactor > 1 each lane keeps its own
// window state, so a window's records are counted once across the lanes'
// final invocations, each key's records within one lane.
func TestWindowPerLane(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kc := kinesistest.New()
		arn := createStream(t, kc, "w", 1)
		c := &counter{}
		m, err := esm.NewWindowed(kc, arn, c.handle, esm.StartingPosition(esm.TrimHorizon),
			esm.TumblingWindow(time.Minute), esm.TumblingWindowLateWait(0), esm.ParallelizationFactor(3), esm.BatchSize(7))
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		time.Sleep(now.Truncate(time.Minute).Add(time.Minute).Sub(now))
		put(t, kc, "w", makeRecs("l", 90, 30))
		stop := run(t, m)
		time.Sleep(3 * time.Minute)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		finals, total := 0, 0
		for _, call := range c.calls {
			if call.final {
				finals++
			}
		}
		for _, n := range c.sums {
			total += n
		}
		if finals < 2 || finals > 3 {
			t.Errorf("%d final invocations, want one per lane that had records (2 or 3)", finals)
		}
		if total != 90 {
			t.Errorf("final states sum to %d records, want 90", total)
		}
	})
}
