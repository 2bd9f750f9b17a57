package window_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/esmkit/esmkit/window"
)

// TestModel drives Trackers, as esm's lane loop would, over random shards:
// arrival times that go backwards, random batch limits, failed invocations,
// missing and oversize states, bisected retries, restarts from the
// persisted tracker, the late-record wait and the shard's end. A reference
// model says which window each record is counted in and which state each
// invocation carries. It checks that
//
//   - no batch spans two windows, and each is in the model's window;
//   - every invocation carries the state the last successful one returned,
//     {} after a window opens or is terminated early, and the flags;
//   - every record is delivered successfully once, in shard order;
//   - every window that received records gets exactly one successful final
//     invocation, after all its records and before any later window's, and
//     no other window gets one.
func TestModel(t *testing.T) {
	n := 400
	if testing.Short() {
		n = 50
	}
	var total coverage
	for seed := range uint64(n) {
		t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) {
			c := runModel(t, rand.New(rand.NewPCG(seed, 0x77696e646f77)))
			total.closeFirst += c.closeFirst
			total.lateWait += c.lateWait
			total.shardEnd += c.shardEnd
			total.early += c.early
			total.late += c.late
			total.restarts += c.restarts
		})
	}
	t.Logf("cases reached: %+v", total)
	// The random shards must reach every case, or the test proves little.
	if total.closeFirst == 0 || total.lateWait == 0 || total.shardEnd == 0 || total.early == 0 || total.late == 0 || total.restarts == 0 {
		t.Errorf("cases not reached: %+v", total)
	}
}

// coverage counts the cases a run reached.
type coverage struct {
	closeFirst int // final invocations because a record of a later window came
	lateWait   int // final invocations because the late-record wait passed
	shardEnd   int // final invocations at the shard's end
	early      int // windows terminated early
	late       int // records counted in a window after their own
	restarts   int // trackers restored from their persisted part
}

// model is the reference: the window a record is counted in, and the
// state and flags the next invocation carries.
type model struct {
	size   time.Duration
	open   bool
	cur    window.Window
	closed time.Time
	state  string
	early  bool
}

func (m *model) windowOf(a time.Time) window.Window {
	if m.open && a.Before(m.cur.End) {
		return m.cur
	}
	if a.Before(m.closed) {
		a = m.closed
	}
	w := window.For(a, m.size)
	if w.Start.Before(m.closed) { // only after a size change
		w = window.For(w.End, m.size)
	}
	return w
}

type harness struct {
	t        *testing.T
	r        *rand.Rand
	cfg      window.Config
	tr       *window.Tracker
	m        model
	now      time.Time
	pending  []events.KinesisEventRecord
	read     int // records read so far
	done     []string
	invoked  []window.Window // windows that received records, in order of first invocation
	finals   []window.Window // windows with a successful final invocation
	attempts int
	cov      coverage
}

func runModel(t *testing.T, r *rand.Rand) coverage {
	sizes := []time.Duration{time.Second, 5 * time.Second, time.Minute}
	waits := []time.Duration{0, 2 * time.Second, 2 * time.Minute}
	cfg := window.Config{Size: sizes[r.IntN(len(sizes))], LateWait: waits[r.IntN(len(waits))], MaxState: 24}
	h := &harness{t: t, r: r, cfg: cfg, tr: newTracker(t, cfg), m: model{size: cfg.Size}, now: t0}
	total := 20 + r.IntN(60)
	for h.read < total || len(h.pending) > 0 {
		switch {
		case h.read < total && (len(h.pending) == 0 || r.IntN(3) == 0):
			h.readRecords(min(total-h.read, 1+r.IntN(8)))
		case len(h.pending) > 0:
			h.dispatch()
		}
		if len(h.pending) == 0 {
			if d, ok := h.tr.Deadline(); ok && r.IntN(2) == 0 {
				h.now = d
			}
			if h.tr.Final(h.now) {
				h.cov.lateWait++
				h.final()
			}
		}
		h.now = h.now.Add(time.Duration(r.IntN(int(2 * cfg.Size))))
	}
	// The shard ends.
	if _, open := h.tr.Current(); open {
		h.cov.shardEnd++
		h.final()
	}
	if h.m.open {
		t.Fatalf("model window %v still open after the shard's end", h.m.cur)
	}
	for i := range h.done {
		if want := strconv.Itoa(i + 1); h.done[i] != want {
			t.Fatalf("delivered %v, want 1 to %d in order", h.done, h.read)
		}
	}
	if len(h.done) != total {
		t.Fatalf("delivered %d records, want %d", len(h.done), total)
	}
	if fmt.Sprint(h.finals) != fmt.Sprint(h.invoked) {
		t.Fatalf("final invocations for %v, want one for each window with records %v", h.finals, h.invoked)
	}
	return h.cov
}

// readRecords appends k records that arrived a little before now, some of
// them before records read earlier.
func (h *harness) readRecords(k int) {
	for range k {
		h.read++
		lag := time.Duration(h.r.IntN(int(h.cfg.Size)))
		if h.r.IntN(5) == 0 {
			lag += time.Duration(h.r.IntN(int(3 * h.cfg.Size))) // out of order
		}
		h.pending = append(h.pending, rec(h.read, h.now.Add(-lag)))
	}
}

// dispatch makes the next invocation for the pending records.
func (h *harness) dispatch() {
	take, closeFirst := cut(h.tr, h.pending)
	first := h.pending[0].Kinesis.ApproximateArrivalTimestamp.Time
	if closeFirst != (h.m.open && !first.Before(h.m.cur.End)) {
		h.t.Fatalf("Cut: got closeFirst %v with window %v (open %v) and first arrival %v", closeFirst, h.m.cur, h.m.open, first)
	}
	if closeFirst {
		h.cov.closeFirst++
		h.final()
		return
	}
	w := h.m.windowOf(first)
	want := 1
	for want < len(h.pending) && h.pending[want].Kinesis.ApproximateArrivalTimestamp.Before(w.End) {
		want++
	}
	if take != want {
		h.t.Fatalf("Cut: got take %d, want %d", take, want)
	}
	k := 1 + h.r.IntN(take) // the batch limits may cut shorter
	h.invoke(h.pending[:k])
	h.pending = h.pending[k:]
}

// invoke delivers batch until it succeeds, splitting it on some failures.
func (h *harness) invoke(batch []events.KinesisEventRecord) {
	for {
		h.maybeRestart()
		ev := h.tr.Next(batch)
		w := h.m.windowOf(batch[0].Kinesis.ApproximateArrivalTimestamp.Time)
		if !h.m.open {
			h.m.open, h.m.cur, h.m.state, h.m.early = true, w, `{}`, false
			if len(h.invoked) > 0 && w.Start.Before(h.invoked[len(h.invoked)-1].End) {
				h.t.Fatalf("window %v opened before the end of %v", w, h.invoked[len(h.invoked)-1])
			}
			h.invoked = append(h.invoked, w)
		}
		h.check(ev, false)
		for i := range batch {
			a := batch[i].Kinesis.ApproximateArrivalTimestamp.Time
			if !a.Before(ev.Window.End) {
				h.t.Fatalf("record arriving at %v in window %v", a, ev.Window)
			}
			if a.Before(ev.Window.Start) {
				h.cov.late++
			}
		}
		switch h.r.IntN(8) {
		case 0: // function error
			h.tr.Failed()
			if len(batch) > 1 && h.r.IntN(2) == 0 { // bisect
				h.invoke(batch[:len(batch)/2])
				h.invoke(batch[len(batch)/2:])
				return
			}
			continue
		case 1: // no state
			if err := h.tr.Succeeded(nil); !errors.Is(err, window.ErrMissingState) {
				h.t.Fatalf("no state: got %v, want ErrMissingState", err)
			}
			continue
		}
		state := h.handle(ev)
		if err := h.tr.Succeeded(json.RawMessage(state)); err != nil {
			h.t.Fatal(err)
		}
		if len(state) > h.cfg.MaxState {
			h.cov.early++
			h.m.state, h.m.early = `{}`, true
		} else {
			h.m.state, h.m.early = state, false
		}
		for i := range batch {
			h.done = append(h.done, batch[i].Kinesis.SequenceNumber)
		}
		return
	}
}

// final makes the final invocation of the open window until it succeeds.
func (h *harness) final() {
	if !h.m.open {
		h.t.Fatal("final invocation with no window open in the model")
	}
	for {
		h.maybeRestart()
		ev := h.tr.Next(nil)
		h.check(ev, true)
		if h.r.IntN(4) == 0 {
			h.tr.Failed()
			continue
		}
		if err := h.tr.Succeeded(json.RawMessage(h.handle(ev))); err != nil {
			h.t.Fatal(err)
		}
		h.finals = append(h.finals, h.m.cur)
		h.m.open, h.m.closed, h.m.cur, h.m.state, h.m.early = false, h.m.cur.End, window.Window{}, "", false
		return
	}
}

// check compares ev with the model.
func (h *harness) check(ev window.Event, final bool) {
	h.t.Helper()
	h.attempts++
	if ev.Window != h.m.cur || string(ev.State) != h.m.state || ev.IsWindowTerminatedEarly != h.m.early || ev.IsFinalInvokeForWindow != final {
		h.t.Fatalf("attempt %d: got window %v, state %s, early %v, final %v; want %v, %s, %v, %v",
			h.attempts, ev.Window, ev.State, ev.IsWindowTerminatedEarly, ev.IsFinalInvokeForWindow,
			h.m.cur, h.m.state, h.m.early, final)
	}
	if final && (ev.Records == nil || len(ev.Records) != 0) {
		h.t.Fatalf("final invocation with Records %v, want []", ev.Records)
	}
	if ev.ShardID != shardID || ev.EventSourceARN != streamARN {
		h.t.Fatalf("got shard %q, ARN %q", ev.ShardID, ev.EventSourceARN)
	}
}

// handle is the function: it counts records in its state, which grows past
// MaxState now and then.
func (h *harness) handle(ev window.Event) string {
	var s struct {
		N int `json:"n"`
	}
	if err := json.Unmarshal(ev.State, &s); err != nil {
		h.t.Fatal(err)
	}
	s.N += len(ev.Records)
	state := fmt.Sprintf(`{"n":%d}`, s.N)
	if h.r.IntN(6) == 0 {
		state = fmt.Sprintf(`{"n":%d,"pad":"%s"}`, s.N, "................")
	}
	return state
}

// maybeRestart now and then replaces the tracker with one restored from
// its persisted part, as a restart between invocations does.
func (h *harness) maybeRestart() {
	if h.r.IntN(10) != 0 {
		return
	}
	b, err := h.tr.MarshalBinary()
	if err != nil {
		h.t.Fatal(err)
	}
	h.cov.restarts++
	h.tr = newTracker(h.t, h.cfg)
	if err := h.tr.UnmarshalBinary(b); err != nil {
		h.t.Fatalf("UnmarshalBinary(%s): %v", b, err)
	}
}
