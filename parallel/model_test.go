package parallel_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/esmkit/esmkit/parallel"
)

// model is the obvious, slow Watermark: every record ever registered with a
// finished flag, the checkpoint recomputed from the start on every question
// (after x/sync syncmap's map_reference_test.go).
type model struct {
	recs  []modelRec
	asked string // the checkpoint at the last Checkpoint call
}

type modelRec struct {
	seq  string
	lane int // -1 for skipped
	done bool
}

func (m *model) register(lane int, seq string) {
	m.recs = append(m.recs, modelRec{seq: seq, lane: lane})
}

func (m *model) skip(seq string) {
	m.recs = append(m.recs, modelRec{seq: seq, lane: -1, done: true})
}

// open returns the unfinished records of lane.
func (m *model) open(lane int) int {
	n := 0
	for _, r := range m.recs {
		if r.lane == lane && !r.done {
			n++
		}
	}
	return n
}

// finish marks the k oldest unfinished records of lane.
func (m *model) finish(lane, k int) {
	for i := range m.recs {
		if r := &m.recs[i]; r.lane == lane && !r.done && k > 0 {
			r.done = true
			k--
		}
	}
	if k > 0 {
		panic("model: finish beyond the open records")
	}
}

// prefix returns the length of the longest finished prefix.
func (m *model) prefix() int {
	for i, r := range m.recs {
		if !r.done {
			return i
		}
	}
	return len(m.recs)
}

// checkpoint returns the last non-empty sequence number in the finished
// prefix.
func (m *model) checkpoint() string {
	for i := m.prefix() - 1; i >= 0; i-- {
		if s := m.recs[i].seq; s != "" {
			return s
		}
	}
	return ""
}

func (m *model) pending() int { return len(m.recs) - m.prefix() }

// TestWatermarkModel runs random operations on a Watermark and the model and
// compares every answer. Keys are drawn from a pool so that they repeat, and
// reach their lane by Lane; lanes finish random counts in random order.
func TestWatermarkModel(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lanes int
		keys  int
		ops   int
		skip  int // percent of records skipped
		empty int // percent of records with no sequence number
	}{
		{"one lane", 1, 10, 1000, 10, 0},
		{"two lanes", 2, 5, 2000, 10, 5},
		{"ten lanes", 10, 50, 2000, 20, 5},
		{"ten lanes one key", 10, 1, 2000, 0, 0},
		{"four lanes no skips", 4, 100, 2000, 0, 0},
		{"four lanes mostly skips", 4, 100, 2000, 80, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for seed := range uint64(10) {
				runModel(t, rand.New(rand.NewPCG(seed, uint64(tc.lanes))), tc.lanes, tc.keys, tc.ops, tc.skip, tc.empty)
			}
		})
	}
}

func runModel(t *testing.T, r *rand.Rand, lanes, nkeys, ops, skipPct, emptyPct int) {
	t.Helper()
	var w parallel.Watermark
	var m model
	keys := make([]string, nkeys)
	for i := range keys {
		keys[i] = randKey(r, 1+r.IntN(40))
	}
	laneOf := map[string]int{}
	next := 0
	newSeq := func() string {
		next++
		if r.IntN(100) < emptyPct {
			return ""
		}
		return fmt.Sprintf("%020d", next)
	}
	// check compares Pending after a change; the Checkpoint operation
	// compares the checkpoint, so that its moved flag is tested too.
	check := func(op string) {
		t.Helper()
		if got, want := w.Pending(), m.pending(); got != want {
			t.Fatalf("after %s: Pending = %d, want %d", op, got, want)
		}
	}
	checkpoint := func() {
		t.Helper()
		seq, moved := w.Checkpoint()
		want := m.checkpoint()
		if seq != want || moved != (want != m.asked) {
			t.Fatalf("Checkpoint = %q, %v, want %q, %v", seq, moved, want, want != m.asked)
		}
		m.asked = want
		// The property, independently of how the model computes it: no
		// unfinished record at or before the checkpoint.
		if seq == "" {
			return
		}
		for _, rec := range m.recs {
			if !rec.done {
				t.Fatalf("Checkpoint %q passes an unfinished record on lane %d", seq, rec.lane)
			}
			if rec.seq == seq {
				break
			}
		}
	}
	for range ops {
		switch op := r.IntN(10); {
		case op < 5: // register or skip the next record
			seq := newSeq()
			if r.IntN(100) < skipPct {
				before := m.checkpoint()
				m.skip(seq)
				if got, want := w.Skip(seq), m.checkpoint() != before; got != want {
					t.Fatalf("Skip(%q) = %v, want %v", seq, got, want)
				}
				check("Skip")
				continue
			}
			key := keys[r.IntN(len(keys))]
			lane := parallel.Lane(key, lanes)
			if l, ok := laneOf[key]; ok && l != lane {
				t.Fatalf("key %q went to lane %d, then %d", key, l, lane)
			}
			laneOf[key] = lane
			m.register(lane, seq)
			w.Register(lane, seq)
			check("Register")
		case op < 9: // finish some records of a random lane
			lane := r.IntN(lanes)
			open := m.open(lane)
			if open == 0 {
				continue
			}
			k := 1 + r.IntN(min(open, 1+r.IntN(20)))
			before := m.checkpoint()
			m.finish(lane, k)
			if got, want := w.Finish(lane, k), m.checkpoint() != before; got != want {
				t.Fatalf("Finish(%d, %d) = %v, want %v", lane, k, got, want)
			}
			check(fmt.Sprintf("Finish(%d, %d)", lane, k))
		default:
			checkpoint()
		}
	}
	// Finish everything, lane by lane in random order: the checkpoint
	// reaches the last record with a sequence number.
	for _, lane := range r.Perm(lanes) {
		if k := m.open(lane); k > 0 {
			m.finish(lane, k)
			w.Finish(lane, k)
			check("final Finish")
			checkpoint()
		}
	}
	if got := w.Pending(); got != 0 {
		t.Fatalf("all finished: Pending = %d, want 0", got)
	}
	last := ""
	for _, rec := range m.recs {
		if rec.seq != "" {
			last = rec.seq
		}
	}
	if got, _ := w.Checkpoint(); got != last {
		t.Fatalf("all finished: Checkpoint = %q, want the last record %q", got, last)
	}
}
