package window_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/esmkit/esmkit/window"
)

// FuzzUnmarshalBinary feeds arbitrary bytes to Tracker.UnmarshalBinary, as
// a damaged or foreign checkpoint would. Invariants:
//   - it never panics;
//   - on error, the error wraps ErrCorrupt and the tracker is unchanged;
//   - on success, MarshalBinary encodes bytes that decode to the same
//     encoding again (a fixed point), any open window is non-empty, and the
//     tracker works: the open window's final invocation succeeds and a
//     record then opens a window that starts no earlier than the closed
//     one ends.
func FuzzUnmarshalBinary(f *testing.F) {
	cfg := window.DefaultConfig(120 * time.Second)
	for _, setup := range []func(*window.Tracker){
		func(*window.Tracker) {},
		func(tr *window.Tracker) { succeed(f, tr, recs(at(0)), `{"n":1,"s":"x"}`) },
		func(tr *window.Tracker) {
			succeed(f, tr, recs(at(0)), `{}`)
			succeed(f, tr, nil, `{}`)
		},
		func(tr *window.Tracker) {
			succeed(f, tr, recs(at(0)), `{}`)
			succeed(f, tr, nil, `{}`)
			succeed(f, tr, recs(at(time.Hour)), `{"big":"`+string(bytes.Repeat([]byte("x"), 64))+`"}`)
		},
	} {
		tr := newTracker(f, cfg)
		setup(tr)
		b, err := tr.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"v":1,"start":"2020-12-09T07:04:00Z","end":"2020-12-09T07:06:00Z","state":{},"terminatedEarly":true}`))
	f.Add([]byte(`{"v":1,"start":"0001-01-01T00:00:00Z","end":"0001-01-01T00:00:01Z","state":{}}`))
	f.Add([]byte(`{"v":1,"closedUntil":"9999-12-31T23:59:59Z"}`))
	f.Add([]byte(`{"v":2}`))
	f.Add([]byte(`null`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr := newTracker(t, cfg)
		succeed(t, tr, recs(at(0)), `{"before":true}`)
		before, err := tr.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.UnmarshalBinary(data); err != nil {
			if !errors.Is(err, window.ErrCorrupt) {
				t.Fatalf("got %v, want ErrCorrupt", err)
			}
			if after, _ := tr.MarshalBinary(); !bytes.Equal(before, after) {
				t.Fatalf("failed UnmarshalBinary changed the tracker: got %s, want %s", after, before)
			}
			return
		}
		b, err := tr.MarshalBinary()
		if err != nil {
			t.Fatalf("MarshalBinary after UnmarshalBinary(%q): %v", data, err)
		}
		again := newTracker(t, cfg)
		if err := again.UnmarshalBinary(b); err != nil {
			t.Fatalf("UnmarshalBinary(%s): %v", b, err)
		}
		if b2, _ := again.MarshalBinary(); !bytes.Equal(b, b2) {
			t.Fatalf("not a fixed point: %s then %s", b, b2)
		}
		closedEnd := time.Time{}
		if w, open := tr.Current(); open {
			if !w.Start.Before(w.End) {
				t.Fatalf("open window %v is empty", w)
			}
			ev := tr.Next(nil)
			if !json.Valid(ev.State) || !ev.IsFinalInvokeForWindow {
				t.Fatalf("final event: state %q, final %v", ev.State, ev.IsFinalInvokeForWindow)
			}
			if err := tr.Succeeded(ev.State); err != nil {
				t.Fatal(err)
			}
			closedEnd = w.End
		}
		ev := tr.Next(recs(at(0)))
		if ev.Window.Start.Before(closedEnd) || !ev.Window.Contains(ev.Window.Start) {
			t.Fatalf("window %v after a window closed at %v", ev.Window, closedEnd)
		}
	})
}

// FuzzTypedState converts arbitrary state JSON for a typed handler.
// Invariants: Event.Typed never panics; it fails only with a
// *TypedStateError; a converted state encodes (ResponseFrom) to JSON that
// converts back to the same map.
func FuzzTypedState(f *testing.F) {
	for _, s := range []string{``, `null`, `{}`, `{"a":"1"}`, `{"1": 282, "2": 715}`, `{"a":"\u00e9\ud800"}`, `[]`, `{"a":`, ` { "a" : "b" } `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tev, err := window.Event{State: data}.Typed()
		if err != nil {
			var se *window.TypedStateError
			if !errors.As(err, &se) {
				t.Fatalf("got %v, want a *TypedStateError", err)
			}
			return
		}
		r := window.ResponseFrom(resp(tev.State, nil))
		back, err := r.Typed()
		if err != nil {
			t.Fatalf("%s: %v", r.State, err)
		}
		if !maps.Equal(back.State, tev.State) || (back.State == nil) != (tev.State == nil) {
			t.Fatalf("got %v, want %v", back.State, tev.State)
		}
	})
}

// FuzzSucceededState passes arbitrary bytes as a function's returned state.
// Invariants: Succeeded never panics; it fails only with ErrMissingState
// or ErrInvalidState, and then the next invocation carries the previous
// state; on success the next invocation carries a state that is valid JSON,
// equal to the input up to whitespace, or {} with IsWindowTerminatedEarly
// when longer than MaxState.
func FuzzSucceededState(f *testing.F) {
	for _, s := range []string{``, `null`, `{}`, `{"a":1}`, ` {"a" : [1, 2.50, "x"]} `, `[]`, `{"a":`, `{} {}`, `"{}"`} {
		f.Add([]byte(s))
	}
	cfg := window.DefaultConfig(120 * time.Second)
	cfg.MaxState = 64
	f.Fuzz(func(t *testing.T, data []byte) {
		tr := newTracker(t, cfg)
		succeed(t, tr, recs(at(0)), `{"prev":1}`)
		tr.Next(recs(at(time.Second)))
		err := tr.Succeeded(data)
		ev := tr.Next(recs(at(2 * time.Second)))
		if err != nil {
			if !errors.Is(err, window.ErrMissingState) && !errors.Is(err, window.ErrInvalidState) {
				t.Fatalf("got %v, want ErrMissingState or ErrInvalidState", err)
			}
			if string(ev.State) != `{"prev":1}` {
				t.Fatalf("after a failure: got state %s, want the previous one", ev.State)
			}
			return
		}
		var compact bytes.Buffer
		if cerr := json.Compact(&compact, data); cerr != nil {
			t.Fatalf("accepted invalid JSON %q: %v", data, cerr)
		}
		switch {
		case compact.Len() > cfg.MaxState:
			if string(ev.State) != `{}` || !ev.IsWindowTerminatedEarly {
				t.Fatalf("oversize: got state %s, early %v; want {}, true", ev.State, ev.IsWindowTerminatedEarly)
			}
		case !bytes.Equal(ev.State, compact.Bytes()) || ev.IsWindowTerminatedEarly:
			t.Fatalf("got state %s, early %v; want %s, false", ev.State, ev.IsWindowTerminatedEarly, compact.Bytes())
		}
	})
}
