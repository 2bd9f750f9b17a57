package window_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/esmkit/esmkit/window"
)

// Conformance checklist items 66 to 70 of spec section 20, at the level of
// this package: a Tracker driven as esm's lane loop drives it.

func TestChecklist66_EveryInvocationCarriesWindowAndState(t *testing.T) {
	tr := newTracker(t, window.DefaultConfig(120*time.Second))
	arrivals := []time.Duration{0, 30 * time.Second, 90 * time.Second, 120*time.Second - time.Millisecond}
	wantWin := `{"start":"2020-12-09T07:04:00Z","end":"2020-12-09T07:06:00Z"}`
	prev := `{}`
	for i, d := range arrivals {
		ev := tr.Next(recs(at(d)))
		win, _ := json.Marshal(ev.Window)
		if string(win) != wantWin || ev.ShardID != shardID || ev.EventSourceARN != streamARN || string(ev.State) != prev {
			t.Errorf("invocation %d: got window %s, shard %q, ARN %q, state %s; want %s, %q, %q, %s",
				i, win, ev.ShardID, ev.EventSourceARN, ev.State, wantWin, shardID, streamARN, prev)
		}
		prev = `{"n":` + string(rune('1'+i)) + `}`
		if err := tr.Succeeded([]byte(prev)); err != nil {
			t.Fatal(err)
		}
	}
	ev := tr.Next(nil)
	if win, _ := json.Marshal(ev.Window); string(win) != wantWin || string(ev.State) != prev || !ev.IsFinalInvokeForWindow {
		t.Errorf("final: got window %s, state %s, final %v; want %s, %s, true", win, ev.State, ev.IsFinalInvokeForWindow, wantWin, prev)
	}
}

func TestChecklist67_NoStateFailsAndIsRetried(t *testing.T) {
	tr := newTracker(t, window.DefaultConfig(120*time.Second))
	succeed(t, tr, recs(at(0)), `{"n":"1"}`)
	batch := recs(at(10 * time.Second))
	for _, resp := range []string{`{}`, `{"state":null}`, `{"batchItemFailures":[]}`, `null`} {
		var r window.Response
		if err := json.Unmarshal([]byte(resp), &r); err != nil {
			t.Fatal(err)
		}
		tr.Next(batch)
		if err := tr.Succeeded(r.State); !errors.Is(err, window.ErrMissingState) {
			t.Errorf("response %s: got %v, want ErrMissingState", resp, err)
		}
	}
	// The retry carries the same window and state.
	ev := tr.Next(batch)
	if string(ev.State) != `{"n":"1"}` || ev.Window != window.For(t0, 120*time.Second) {
		t.Errorf("retry: got state %s, window %v; want {\"n\":\"1\"}, %v", ev.State, ev.Window, window.For(t0, 120*time.Second))
	}
}

func TestChecklist68_FinalInvocationAfterLateWait(t *testing.T) {
	tr := newTracker(t, window.DefaultConfig(120*time.Second))
	succeed(t, tr, recs(at(10*time.Second)), `{"n":"1"}`)
	end := at(120 * time.Second)
	if tr.Final(end.Add(2*time.Minute - time.Second)) {
		t.Fatal("Final 1 s before the 2 minute wait: got true, want false")
	}
	if !tr.Final(end.Add(2 * time.Minute)) {
		t.Fatal("Final after the 2 minute wait: got false, want true")
	}
	ev := tr.Next(nil)
	if !ev.IsFinalInvokeForWindow || len(ev.Records) != 0 || string(ev.State) != `{"n":"1"}` {
		t.Fatalf("got final %v, %d records, state %s; want true, 0, {\"n\":\"1\"}", ev.IsFinalInvokeForWindow, len(ev.Records), ev.State)
	}
	if err := tr.Succeeded([]byte(`{"n":"1"}`)); err != nil {
		t.Fatal(err)
	}
	next := tr.Next(recs(at(300 * time.Second)))
	if string(next.State) != `{}` || next.IsFinalInvokeForWindow || next.Window == ev.Window {
		t.Errorf("next: got state %s, final %v, window %v; want {}, false, a new window", next.State, next.IsFinalInvokeForWindow, next.Window)
	}
}

func TestChecklist69_OversizeStateTerminatesEarly(t *testing.T) {
	tr := newTracker(t, window.DefaultConfig(120*time.Second))
	big := make([]byte, 0, window.DefaultMaxState+16)
	big = append(big, `{"s":"`...)
	for len(big) < window.DefaultMaxState-1 {
		big = append(big, 'x')
	}
	big = append(big, `"}`...) // 1,048,577 bytes
	first := succeed(t, tr, recs(at(0)), string(big))
	ev := tr.Next(recs(at(time.Second)))
	if !ev.IsWindowTerminatedEarly || string(ev.State) != `{}` || ev.Window != first.Window {
		t.Errorf("got early %v, state of %d bytes, window %v; want true, {}, %v", ev.IsWindowTerminatedEarly, len(ev.State), ev.Window, first.Window)
	}
	if err := tr.Succeeded(big[:0:0]); !errors.Is(err, window.ErrMissingState) {
		t.Fatalf("got %v, want ErrMissingState", err)
	}
	// Exactly 1 MB is allowed.
	exact := append(big[:window.DefaultMaxState-2:window.DefaultMaxState-2], `"}`...)
	tr.Next(recs(at(time.Second)))
	if err := tr.Succeeded(exact); err != nil {
		t.Fatal(err)
	}
	if ev := tr.Next(recs(at(2 * time.Second))); ev.IsWindowTerminatedEarly || len(ev.State) != window.DefaultMaxState {
		t.Errorf("1 MB state: got early %v, %d bytes; want false, %d", ev.IsWindowTerminatedEarly, len(ev.State), window.DefaultMaxState)
	}
}

func TestChecklist70_ShardEndClosesWindowChildrenStartFresh(t *testing.T) {
	parent := newTracker(t, window.DefaultConfig(120*time.Second))
	succeed(t, parent, recs(at(10*time.Second)), `{"n":"1"}`)
	// The parent ends mid-window: nothing pending, a window open.
	w, open := parent.Current()
	if !open {
		t.Fatal("got no open window, want one")
	}
	ev := parent.Next(nil)
	if !ev.IsFinalInvokeForWindow || ev.Window != w || string(ev.State) != `{"n":"1"}` {
		t.Errorf("parent final: got final %v, window %v, state %s", ev.IsFinalInvokeForWindow, ev.Window, ev.State)
	}
	if err := parent.Succeeded(ev.State); err != nil {
		t.Fatal(err)
	}
	for _, child := range []string{"shardId-000000000007", "shardId-000000000008"} {
		tr, err := window.NewTracker(window.DefaultConfig(120*time.Second), child, streamARN)
		if err != nil {
			t.Fatal(err)
		}
		// Even a record arriving in the parent's window starts fresh.
		ev := tr.Next(recs(at(20 * time.Second)))
		if string(ev.State) != `{}` || ev.ShardID != child || ev.IsWindowTerminatedEarly || ev.IsFinalInvokeForWindow {
			t.Errorf("%s: got state %s, shard %s, early %v, final %v; want {}, %s, false, false", child, ev.State, ev.ShardID, ev.IsWindowTerminatedEarly, ev.IsFinalInvokeForWindow, child)
		}
	}
}
