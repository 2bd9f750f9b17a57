package window_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/esmkit/esmkit/window"
)

const sec = time.Second

func TestCut(t *testing.T) {
	cfg := window.DefaultConfig(120 * sec)
	w0 := window.Window{Start: t0, End: at(120 * sec)}
	w1 := window.Window{Start: at(120 * sec), End: at(240 * sec)}
	// Each setup leaves the tracker idle.
	fresh := func(*testing.T, *window.Tracker) {}
	openW0 := func(t *testing.T, tr *window.Tracker) { succeed(t, tr, recs(at(10*sec)), `{}`) }
	closedW0 := func(t *testing.T, tr *window.Tracker) {
		openW0(t, tr)
		succeed(t, tr, nil, `{}`)
	}
	for _, tc := range []struct {
		name       string
		setup      func(*testing.T, *window.Tracker)
		arrivals   []time.Duration // after t0
		take       int
		closeFirst bool
		win        window.Window // the window of the batch, when take > 0
	}{
		{"nothing pending", fresh, nil, 0, false, window.Window{}},
		{"fresh, one window", fresh, []time.Duration{5 * sec, 6 * sec, 119 * sec}, 3, false, w0},
		{"fresh, cut at boundary", fresh, []time.Duration{5 * sec, 119 * sec, 120 * sec, 121 * sec}, 2, false, w0},
		{"fresh, later records of the first window only", fresh, []time.Duration{130 * sec, 125 * sec, 239 * sec, 240 * sec}, 3, false, w1},
		{"fresh, earlier arrival after first is counted in its window", fresh, []time.Duration{100 * sec, -30 * sec, 110 * sec}, 3, false, w0},
		{"open, same window", openW0, []time.Duration{20 * sec, 30 * sec}, 2, false, w0},
		{"open, later window first", openW0, []time.Duration{120 * sec, 20 * sec}, 0, true, window.Window{}},
		{"open, far later window first", openW0, []time.Duration{time.Hour}, 0, true, window.Window{}},
		{"open, closed earlier window counted in open one", openW0, []time.Duration{-1 * sec, -10 * time.Minute, 60 * sec}, 3, false, w0},
		{"open, cut at first later record, not after", openW0, []time.Duration{50 * sec, 121 * sec, 119 * sec}, 1, false, w0},
		{"closed, late record goes to next window", closedW0, []time.Duration{-1 * sec, 119 * sec, 200 * sec}, 3, false, w1},
		{"closed, late record then much later one", closedW0, []time.Duration{100 * sec, 600 * sec}, 1, false, w1},
		{"closed, record of a later window", closedW0, []time.Duration{600 * sec, 610 * sec}, 2, false, window.For(at(600*sec), 120*sec)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTracker(t, cfg)
			tc.setup(t, tr)
			arrivals := make([]time.Time, len(tc.arrivals))
			for i, d := range tc.arrivals {
				arrivals[i] = at(d)
			}
			rs := recs(arrivals...)
			read := 0
			take, closeFirst := tr.Cut(len(rs), func(i int) time.Time {
				read = max(read, i+1)
				return arrivals[i]
			})
			if take != tc.take || closeFirst != tc.closeFirst {
				t.Fatalf("got (%d, %v), want (%d, %v)", take, closeFirst, tc.take, tc.closeFirst)
			}
			if read > take+1 {
				t.Errorf("read %d arrivals, want at most %d", read, take+1)
			}
			if take == 0 {
				return
			}
			if ev := tr.Next(rs[:take]); ev.Window != tc.win {
				t.Errorf("got window %v, want %v", ev.Window, tc.win)
			}
		})
	}
}

// TestCutSequence drives a tracker over non-monotonic arrivals: every
// record is delivered once, in shard order, each batch in one window.
func TestCutSequence(t *testing.T) {
	tr := newTracker(t, window.DefaultConfig(120*sec))
	pending := recs(at(10*sec), at(130*sec), at(119*sec), at(250*sec), at(100*sec), at(245*sec))
	type call struct {
		seqs  string
		start time.Duration
		final bool
	}
	want := []call{
		{"1", 0, false},
		{"", 0, true},             // 130 s closes [0, 120)
		{"2 3", 120 * sec, false}, // 119 s is late: counted in [120, 240)
		{"", 120 * sec, true},     // 250 s closes [120, 240)
		{"4 5 6", 240 * sec, false},
		{"", 240 * sec, true}, // shard end
	}
	var got []call
	for len(pending) > 0 {
		take, closeFirst := cut(tr, pending)
		var ev window.Event
		if closeFirst {
			ev = tr.Next(nil)
		} else {
			ev = tr.Next(pending[:take])
			pending = pending[take:]
		}
		got = append(got, call{seqsOf(ev.Records), ev.Window.Start.Sub(t0), ev.IsFinalInvokeForWindow})
		if err := tr.Succeeded([]byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	if _, open := tr.Current(); open {
		ev := tr.Next(nil)
		got = append(got, call{seqsOf(ev.Records), ev.Window.Start.Sub(t0), ev.IsFinalInvokeForWindow})
	}
	if len(got) != len(want) {
		t.Fatalf("got %d invocations %v, want %v", len(got), got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("invocation %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func seqsOf(rs []events.KinesisEventRecord) string {
	s := make([]string, len(rs))
	for i := range rs {
		s[i] = rs[i].Kinesis.SequenceNumber
	}
	return strings.Join(s, " ")
}

func TestMisusePanics(t *testing.T) {
	cfg := window.DefaultConfig(120 * sec)
	for _, tc := range []struct {
		name string
		f    func(*window.Tracker)
		want string
	}{
		{"final with no open window", func(tr *window.Tracker) { tr.Next(nil) }, "no open window"},
		{"records of two windows", func(tr *window.Tracker) { tr.Next(recs(at(0), at(120*sec))) }, "span two windows"},
		{"records after the open window", func(tr *window.Tracker) {
			tr.Next(recs(at(0)))
			tr.Failed()
			tr.Next(recs(at(120 * sec)))
		}, "after the open window"},
		{"Succeeded with nothing in flight", func(tr *window.Tracker) { _ = tr.Succeeded([]byte(`{}`)) }, "no invocation in flight"},
		{"Succeeded twice", func(tr *window.Tracker) {
			tr.Next(recs(at(0)))
			_ = tr.Succeeded([]byte(`{}`))
			_ = tr.Succeeded([]byte(`{}`))
		}, "no invocation in flight"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTracker(t, cfg)
			defer func() {
				v := recover()
				if s, _ := v.(string); !strings.Contains(s, tc.want) {
					t.Errorf("got panic %v, want one containing %q", v, tc.want)
				}
			}()
			tc.f(tr)
		})
	}
}

func TestFinal(t *testing.T) {
	end := at(120 * sec)
	for _, tc := range []struct {
		name     string
		lateWait time.Duration
		now      time.Time
		want     bool
	}{
		{"during the window", 2 * time.Minute, at(60 * sec), false},
		{"at the end", 2 * time.Minute, end, false},
		{"just before the wait", 2 * time.Minute, end.Add(2*time.Minute - time.Nanosecond), false},
		{"when the wait is over", 2 * time.Minute, end.Add(2 * time.Minute), true},
		{"long after", 2 * time.Minute, end.Add(time.Hour), true},
		{"no wait, at the end", 0, end, true},
		{"no wait, before the end", 0, end.Add(-time.Nanosecond), false},
		{"30 s wait", 30 * sec, end.Add(30 * sec), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := window.DefaultConfig(120 * sec)
			cfg.LateWait = tc.lateWait
			tr := newTracker(t, cfg)
			if tr.Final(tc.now) {
				t.Fatal("Final with no window: got true, want false")
			}
			if _, ok := tr.Deadline(); ok {
				t.Fatal("Deadline with no window: got true, want false")
			}
			ev := tr.Next(recs(at(10 * sec)))
			if tr.Final(tc.now) {
				t.Error("Final with an invocation in flight: got true, want false")
			}
			if err := tr.Succeeded(ev.State); err != nil {
				t.Fatal(err)
			}
			if got := tr.Final(tc.now); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if d, ok := tr.Deadline(); !ok || !d.Equal(end.Add(tc.lateWait)) {
				t.Errorf("Deadline: got %v, %v, want %v, true", d, ok, end.Add(tc.lateWait))
			}
			if !tc.want {
				return
			}
			fev := tr.Next(nil)
			if tr.Final(tc.now) {
				t.Error("Final with the final invocation in flight: got true, want false")
			}
			if !fev.IsFinalInvokeForWindow || fev.Records == nil || len(fev.Records) != 0 || fev.Window != ev.Window {
				t.Errorf("got final event %+v, want IsFinalInvokeForWindow, Records [] and window %v", fev, ev.Window)
			}
			if err := tr.Succeeded([]byte(`{}`)); err != nil {
				t.Fatal(err)
			}
			if tr.Final(tc.now) {
				t.Error("Final after the window closed: got true, want false")
			}
		})
	}
}

func TestSucceededState(t *testing.T) {
	const prev = `{"n":"1"}`
	for _, tc := range []struct {
		name    string
		state   json.RawMessage
		wantErr error
		want    string // the state of the next invocation
	}{
		{"object", json.RawMessage(`{"n":"2"}`), nil, `{"n":"2"}`},
		{"empty object", json.RawMessage(`{}`), nil, `{}`},
		{"numbers kept exactly", json.RawMessage(`{"big":12345678901234567890123,"f":1.50}`), nil, `{"big":12345678901234567890123,"f":1.50}`},
		{"whitespace compacted", json.RawMessage(" {\n \"a\" : [1, 2] }\t"), nil, `{"a":[1,2]}`},
		{"nil", nil, window.ErrMissingState, prev},
		{"empty", json.RawMessage(``), window.ErrMissingState, prev},
		{"null", json.RawMessage(`null`), window.ErrMissingState, prev},
		{"spaced null", json.RawMessage(" null\n"), window.ErrMissingState, prev},
		{"array", json.RawMessage(`[]`), window.ErrInvalidState, prev},
		{"number", json.RawMessage(`1`), window.ErrInvalidState, prev},
		{"string", json.RawMessage(`"{}"`), window.ErrInvalidState, prev},
		{"truncated", json.RawMessage(`{"a":1`), window.ErrInvalidState, prev},
		{"two objects", json.RawMessage(`{} {}`), window.ErrInvalidState, prev},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTracker(t, window.DefaultConfig(120*sec))
			first := succeed(t, tr, recs(at(0)), prev)
			tr.Next(recs(at(sec)))
			err := tr.Succeeded(tc.state)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("got %v, want %v", err, tc.wantErr)
			}
			ev := tr.Next(recs(at(2 * sec)))
			if string(ev.State) != tc.want || ev.Window != first.Window || ev.IsWindowTerminatedEarly {
				t.Errorf("next event: got state %s, window %v, early %v; want %s, %v, false", ev.State, ev.Window, ev.IsWindowTerminatedEarly, tc.want, first.Window)
			}
		})
	}
}

func TestFinalNeedsState(t *testing.T) {
	tr := newTracker(t, window.DefaultConfig(120*sec))
	succeed(t, tr, recs(at(0)), `{"n":"1"}`)
	tr.Next(nil)
	if err := tr.Succeeded(nil); !errors.Is(err, window.ErrMissingState) {
		t.Fatalf("got %v, want ErrMissingState", err)
	}
	// The retry is the same final invocation, with the same state.
	ev := tr.Next(nil)
	if !ev.IsFinalInvokeForWindow || string(ev.State) != `{"n":"1"}` {
		t.Errorf("retry: got final %v, state %s; want true, {\"n\":\"1\"}", ev.IsFinalInvokeForWindow, ev.State)
	}
}

func TestEventStateIsACopy(t *testing.T) {
	tr := newTracker(t, window.DefaultConfig(120*sec))
	ev := succeed(t, tr, recs(at(0)), `{"n":"1"}`)
	ev = tr.Next(recs(at(sec)))
	ev.State[2] = 'X' // a handler scribbling on its event
	tr.Failed()
	if got := tr.Next(recs(at(sec))).State; string(got) != `{"n":"1"}` {
		t.Errorf("got %s, want {\"n\":\"1\"}", got)
	}
}

func TestTerminatedEarly(t *testing.T) {
	cfg := window.DefaultConfig(120 * sec)
	cfg.MaxState = 9
	tr := newTracker(t, cfg)
	w := succeed(t, tr, recs(at(0)), `{ "a" : "b" }`).Window // 9 bytes compact: at the limit
	type step struct {
		records []events.KinesisEventRecord
		fail    bool
		state   string
		// the event of this step
		wantState string
		wantEarly bool
		wantFinal bool
	}
	for i, s := range []step{
		{records: recs(at(sec)), state: `{"a":"bc"}`, wantState: `{"a":"b"}`},      // 10 bytes: too large
		{records: recs(at(2 * sec)), fail: true, wantState: `{}`, wantEarly: true}, // same window, fresh state
		{records: recs(at(2 * sec)), state: `{"a":"c"}`, wantState: `{}`, wantEarly: true},
		{records: recs(at(3 * sec)), state: `{"x":"0123456789"}`, wantState: `{"a":"c"}`},
		{records: nil, state: `{}`, wantState: `{}`, wantEarly: true, wantFinal: true}, // a final invocation carries the flag too
		{records: recs(at(200 * sec)), state: `{}`, wantState: `{}`},                   // new window: no flag
	} {
		ev := tr.Next(s.records)
		if string(ev.State) != s.wantState || ev.IsWindowTerminatedEarly != s.wantEarly || ev.IsFinalInvokeForWindow != s.wantFinal {
			t.Errorf("step %d: got state %s, early %v, final %v; want %s, %v, %v", i, ev.State, ev.IsWindowTerminatedEarly, ev.IsFinalInvokeForWindow, s.wantState, s.wantEarly, s.wantFinal)
		}
		if i < 5 && ev.Window != w {
			t.Errorf("step %d: got window %v, want the same window %v", i, ev.Window, w)
		}
		if s.fail {
			tr.Failed()
			continue
		}
		if err := tr.Succeeded([]byte(s.state)); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
}

func TestAbandon(t *testing.T) {
	tr := newTracker(t, window.DefaultConfig(120*sec))
	succeed(t, tr, recs(at(0)), `{"n":"1"}`)
	tr.Next(nil)
	tr.Failed()
	tr.Abandon()
	if w, open := tr.Current(); open {
		t.Fatalf("got open window %v, want none", w)
	}
	// The abandoned window is closed: a late record of it opens the next.
	ev := tr.Next(recs(at(60 * sec)))
	if want := window.For(at(120*sec), 120*sec); ev.Window != want || string(ev.State) != `{}` {
		t.Errorf("got window %v, state %s; want %v, {}", ev.Window, ev.State, want)
	}
	tr.Abandon() // with records in flight: the window still closes
	if _, open := tr.Current(); open {
		t.Error("got an open window after Abandon, want none")
	}
	tr.Abandon() // nothing open: no-op
}

func TestMarshalRoundTrip(t *testing.T) {
	cfg := window.DefaultConfig(120 * sec)
	for _, tc := range []struct {
		name  string
		setup func(*testing.T, *window.Tracker)
	}{
		{"fresh", func(*testing.T, *window.Tracker) {}},
		{"open with state", func(t *testing.T, tr *window.Tracker) {
			succeed(t, tr, recs(at(0)), `{"n":1,"s":"x"}`)
		}},
		{"opened, first invocation failed", func(t *testing.T, tr *window.Tracker) {
			tr.Next(recs(at(0)))
			tr.Failed()
		}},
		{"terminated early", func(t *testing.T, tr *window.Tracker) {
			succeed(t, tr, recs(at(0)), `{"big":"`+strings.Repeat("x", window.DefaultMaxState)+`"}`)
		}},
		{"closed", func(t *testing.T, tr *window.Tracker) {
			succeed(t, tr, recs(at(0)), `{}`)
			succeed(t, tr, nil, `{}`)
		}},
		{"closed then open", func(t *testing.T, tr *window.Tracker) {
			succeed(t, tr, recs(at(0)), `{}`)
			succeed(t, tr, nil, `{}`)
			succeed(t, tr, recs(at(500*sec)), `{"w":"2"}`)
		}},
		{"invocation in flight", func(t *testing.T, tr *window.Tracker) {
			succeed(t, tr, recs(at(0)), `{"w":"1"}`)
			tr.Next(recs(at(sec)))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			orig := newTracker(t, cfg)
			tc.setup(t, orig)
			b, err := orig.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			restored := newTracker(t, cfg)
			succeed(t, restored, recs(at(-time.Hour)), `{"other":"state"}`) // overwritten
			if err := restored.UnmarshalBinary(b); err != nil {
				t.Fatalf("UnmarshalBinary(%s): %v", b, err)
			}
			b2, err := restored.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, b2) {
				t.Errorf("got %s, want %s", b2, b)
			}
			orig.Failed() // as a restart forgets the invocation in flight
			// Both behave alike from here: a late record, a record of the
			// open or next window, a final invocation.
			for _, rs := range [][]events.KinesisEventRecord{recs(at(-time.Minute)), recs(at(5 * sec)), recs(at(510 * sec)), nil} {
				w1, open1 := orig.Current()
				w2, open2 := restored.Current()
				if w1 != w2 || open1 != open2 {
					t.Fatalf("Current: got %v %v, want %v %v", w2, open2, w1, open1)
				}
				tk1, c1 := cut(orig, rs)
				tk2, c2 := cut(restored, rs)
				if tk1 != tk2 || c1 != c2 {
					t.Fatalf("Cut: got %d %v, want %d %v", tk2, c2, tk1, c1)
				}
				if c1 || (rs == nil && !open1) {
					rs = nil
					if !open1 {
						continue
					}
				}
				e1, e2 := orig.Next(rs), restored.Next(rs)
				j1, _ := json.Marshal(e1)
				j2, _ := json.Marshal(e2)
				if !bytes.Equal(j1, j2) {
					t.Fatalf("Next: got %s, want %s", j2, j1)
				}
				_, _ = orig.Succeeded([]byte(`{"k":"v"}`)), restored.Succeeded([]byte(`{"k":"v"}`))
			}
		})
	}
}

func TestUnmarshalEmpty(t *testing.T) {
	tr := newTracker(t, window.DefaultConfig(120*sec))
	succeed(t, tr, recs(at(0)), `{"n":"1"}`)
	succeed(t, tr, nil, `{}`)
	if err := tr.UnmarshalBinary(nil); err != nil {
		t.Fatal(err)
	}
	// As new: nothing closed, so an old record opens its own window.
	if ev := tr.Next(recs(at(0))); ev.Window != window.For(t0, 120*sec) || string(ev.State) != `{}` {
		t.Errorf("got window %v, state %s; want %v, {}", ev.Window, ev.State, window.For(t0, 120*sec))
	}
}

func TestUnmarshalErrors(t *testing.T) {
	const (
		start = `"start":"2020-12-09T07:04:00Z"`
		end   = `"end":"2020-12-09T07:06:00Z"`
	)
	for _, tc := range []struct {
		name string
		data string
	}{
		{"not JSON", `{`},
		{"not an object", `[]`},
		{"no version", `{}`},
		{"version 2", `{"v":2}`},
		{"unknown field", `{"v":1,"x":1}`},
		{"trailing data", `{"v":1} {}`},
		{"state not an object", `{"v":1,` + start + `,` + end + `,"state":[]}`},
		{"state null", `{"v":1,` + start + `,` + end + `,"state":null}`},
		{"state without window", `{"v":1,"state":{}}`},
		{"empty window", `{"v":1,` + start + `,"end":"2020-12-09T07:04:00Z","state":{}}`},
		{"reversed window", `{"v":1,"start":"2020-12-09T07:06:00Z","end":"2020-12-09T07:04:00Z","state":{}}`},
		{"window over 900 s", `{"v":1,` + start + `,"end":"2020-12-09T07:19:01Z","state":{}}`},
		{"open window before the closed one", `{"v":1,` + start + `,` + end + `,"state":{},"closedUntil":"2020-12-09T07:05:00Z"}`},
		{"window without state", `{"v":1,` + start + `,` + end + `}`},
		{"early without state", `{"v":1,"terminatedEarly":true}`},
		{"bad time", `{"v":1,"closedUntil":"yesterday"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTracker(t, window.DefaultConfig(120*sec))
			succeed(t, tr, recs(at(0)), `{"n":"1"}`)
			before, _ := tr.MarshalBinary()
			if err := tr.UnmarshalBinary([]byte(tc.data)); !errors.Is(err, window.ErrCorrupt) {
				t.Fatalf("got %v, want ErrCorrupt", err)
			}
			if after, _ := tr.MarshalBinary(); !bytes.Equal(before, after) {
				t.Errorf("tracker changed: got %s, want %s", after, before)
			}
		})
	}
}

// TestSizeChange resumes a 120 s window with a 60 s Config: the old window
// runs to its end, and windows after it have the new size.
func TestSizeChange(t *testing.T) {
	old := newTracker(t, window.DefaultConfig(120*sec))
	succeed(t, old, recs(at(0)), `{"n":"1"}`)
	b, err := old.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	tr := newTracker(t, window.DefaultConfig(60*sec))
	if err := tr.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if take, closeFirst := cut(tr, recs(at(90*sec))); take != 1 || closeFirst {
		t.Fatalf("record in the old window: got (%d, %v), want (1, false)", take, closeFirst)
	}
	if ev := succeed(t, tr, recs(at(90*sec)), `{}`); ev.Window != window.For(t0, 120*sec) {
		t.Errorf("got window %v, want %v", ev.Window, window.For(t0, 120*sec))
	}
	if _, closeFirst := cut(tr, recs(at(120*sec))); !closeFirst {
		t.Fatal("record after the old window: got closeFirst false, want true")
	}
	succeed(t, tr, nil, `{}`)
	if ev := tr.Next(recs(at(130 * sec))); ev.Window != (window.Window{Start: at(120 * sec), End: at(180 * sec)}) {
		t.Errorf("got window %v, want [07:06, 07:07)", ev.Window)
	}
}

// TestSizeChangeShorterToLonger resumes a closed 60 s window with a 120 s
// Config: the 120 s window holding the closed one's end would overlap it,
// so the next one is used.
func TestSizeChangeShorterToLonger(t *testing.T) {
	old := newTracker(t, window.DefaultConfig(60*sec))
	succeed(t, old, recs(at(0)), `{}`)
	succeed(t, old, nil, `{}`) // closes [07:04, 07:05)
	b, err := old.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	tr := newTracker(t, window.DefaultConfig(120*sec))
	if err := tr.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	rs := recs(at(30*sec), at(70*sec), at(200*sec), at(239*sec), at(240*sec))
	if take, closeFirst := cut(tr, rs); take != 4 || closeFirst {
		t.Fatalf("got (%d, %v), want (4, false)", take, closeFirst)
	}
	if ev := tr.Next(rs[:4]); ev.Window != (window.Window{Start: at(120 * sec), End: at(240 * sec)}) {
		t.Errorf("got window %v, want [07:06, 07:08)", ev.Window)
	}
}
