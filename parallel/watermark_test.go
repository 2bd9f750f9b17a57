package parallel_test

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/esmkit/esmkit/parallel"
)

// TestWatermarkConcurrent runs the shape esm uses: one goroutine registers
// records in shard order and routes them to lane goroutines, which finish
// them in batches of random size, while a checkpointer reads the
// checkpoint whenever a Finish reports that it moved. Lane 0 fails until
// the others are done: the checkpoint must wait just before its oldest
// record. Every record is flagged before it is finished, and the
// checkpointer checks that every record up to the checkpoint is flagged.
// Run it with -race.
func TestWatermarkConcurrent(t *testing.T) {
	const records, lanes = 20000, 4
	var (
		w       parallel.Watermark
		flags   [records]atomic.Bool
		seqs    [records]string
		laneOf  [records]int
		wake    = make(chan struct{}, 1)
		release = make(chan struct{}) // closed when lane 0 may finish
		quit    = make(chan struct{}) // closed to stop the checkpointer
		in      [lanes]chan int
	)
	for i := range seqs {
		seqs[i] = fmt.Sprintf("%08d", i)
	}
	for l := range in {
		in[l] = make(chan int, records) // lanes never hold up the reader
	}
	kick := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}

	var checkErr atomic.Value
	var cp sync.WaitGroup
	cp.Go(func() { // the checkpointer
		last, verified := -1, 0
		for {
			select {
			case <-wake:
			case <-quit:
				return
			}
			seq, moved := w.Checkpoint()
			if !moved {
				continue
			}
			i, _ := strconv.Atoi(seq)
			if i <= last {
				checkErr.Store(fmt.Sprintf("checkpoint went from %d to %d", last, i))
				return
			}
			for ; verified <= i; verified++ {
				if !flags[verified].Load() {
					checkErr.Store(fmt.Sprintf("checkpoint %d passes unfinished record %d", i, verified))
					return
				}
			}
			last = i
		}
	})

	var lanesWG, othersWG sync.WaitGroup
	for l := range lanes {
		if l != 0 {
			othersWG.Add(1)
		}
		lanesWG.Go(func() {
			if l != 0 {
				defer othersWG.Done()
			} else {
				<-release // failing: retrying while the other lanes go on
			}
			r := rand.New(rand.NewPCG(uint64(l), 7))
			var batch []int
			lastOfKey := map[int]int{}
			flush := func() {
				for _, i := range batch {
					flags[i].Store(true)
				}
				if w.Finish(l, len(batch)) {
					kick()
				}
				batch = batch[:0]
			}
			for i := range in[l] {
				key := i % 97
				if prev, ok := lastOfKey[key]; ok && prev > i {
					t.Errorf("lane %d: key %d got record %d after %d", l, key, i, prev)
				}
				lastOfKey[key] = i
				batch = append(batch, i)
				if len(batch) >= 1+r.IntN(50) {
					flush()
				}
			}
			if len(batch) > 0 {
				flush()
			}
		})
	}

	// The reader: every seventh record is filtered out.
	firstOfLane0 := -1
	for i := range records {
		if i%7 == 3 {
			flags[i].Store(true)
			laneOf[i] = -1
			if w.Skip(seqs[i]) {
				kick()
			}
			continue
		}
		l := parallel.Lane(strconv.Itoa(i%97), lanes)
		if l == 0 && firstOfLane0 < 0 {
			firstOfLane0 = i
		}
		laneOf[i] = l
		w.Register(l, seqs[i])
		in[l] <- i
	}
	for l := range in {
		close(in[l])
	}

	othersWG.Wait()
	if firstOfLane0 < 1 {
		t.Fatalf("first record of lane 0 is %d, want a later one for this test", firstOfLane0)
	}
	if got, _ := w.Checkpoint(); got != seqs[firstOfLane0-1] {
		t.Errorf("lane 0 failing: Checkpoint = %q, want %q, just before its oldest record", got, seqs[firstOfLane0-1])
	}
	close(release)
	lanesWG.Wait()
	close(quit)
	cp.Wait()
	if msg := checkErr.Load(); msg != nil {
		t.Fatal(msg)
	}
	if got, _ := w.Checkpoint(); got != seqs[records-1] {
		t.Errorf("all finished: Checkpoint = %q, want %q", got, seqs[records-1])
	}
	if got := w.Pending(); got != 0 {
		t.Errorf("all finished: Pending = %d, want 0", got)
	}
}

// TestWatermarkSteps walks through the rules one call at a time.
func TestWatermarkSteps(t *testing.T) {
	type step struct {
		op        string // "reg", "skip", "fin" or "cp"
		lane, k   int
		seq       string
		wantMoved bool
		wantSeq   string // for "cp"
		pending   int
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"empty", []step{
			{op: "cp", wantSeq: "", wantMoved: false},
		}},
		{"skip with nothing pending moves at once", []step{
			{op: "skip", seq: "1", wantMoved: true},
			{op: "cp", wantSeq: "1", wantMoved: true},
			{op: "cp", wantSeq: "1", wantMoved: false},
		}},
		{"checkpoint waits for the slow lane", []step{
			{op: "reg", lane: 0, seq: "1", pending: 1},
			{op: "reg", lane: 1, seq: "2", pending: 2},
			{op: "skip", seq: "3", pending: 3},
			{op: "reg", lane: 1, seq: "4", pending: 4},
			{op: "fin", lane: 1, k: 2, wantMoved: false, pending: 4},
			{op: "cp", wantSeq: "", wantMoved: false, pending: 4},
			{op: "fin", lane: 0, k: 1, wantMoved: true, pending: 0},
			{op: "cp", wantSeq: "4", wantMoved: true},
		}},
		{"failing lane holds at its oldest record", []step{
			{op: "reg", lane: 0, seq: "1", pending: 1},
			{op: "reg", lane: 2, seq: "2", pending: 2},
			{op: "reg", lane: 0, seq: "3", pending: 3},
			{op: "fin", lane: 0, k: 2, wantMoved: true, pending: 2},
			{op: "cp", wantSeq: "1", wantMoved: true, pending: 2},
			{op: "reg", lane: 0, seq: "5", pending: 3},
			{op: "fin", lane: 0, k: 1, pending: 3},
			{op: "cp", wantSeq: "1", pending: 3},
			{op: "fin", lane: 2, k: 1, wantMoved: true, pending: 0},
			{op: "cp", wantSeq: "5", wantMoved: true},
		}},
		{"empty sequence numbers are passed, not reported", []step{
			{op: "reg", lane: 0, seq: "1", pending: 1},
			{op: "reg", lane: 0, seq: "", pending: 2},
			{op: "reg", lane: 0, seq: "", pending: 3},
			{op: "fin", lane: 0, k: 2, wantMoved: true, pending: 1},
			{op: "cp", wantSeq: "1", wantMoved: true, pending: 1},
			{op: "skip", seq: "", pending: 2},
			{op: "fin", lane: 0, k: 1, pending: 0},
			{op: "cp", wantSeq: "1"},
		}},
		{"finishing nothing", []step{
			{op: "reg", lane: 3, seq: "1", pending: 1},
			{op: "fin", lane: 3, k: 0, pending: 1},
			{op: "fin", lane: 0, k: 0, pending: 1},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w parallel.Watermark
			for i, s := range tc.steps {
				var moved bool
				switch s.op {
				case "reg":
					w.Register(s.lane, s.seq)
				case "skip":
					moved = w.Skip(s.seq)
				case "fin":
					moved = w.Finish(s.lane, s.k)
				case "cp":
					var seq string
					seq, moved = w.Checkpoint()
					if seq != s.wantSeq {
						t.Fatalf("step %d: Checkpoint = %q, want %q", i, seq, s.wantSeq)
					}
				}
				if moved != s.wantMoved {
					t.Fatalf("step %d (%s): moved = %v, want %v", i, s.op, moved, s.wantMoved)
				}
				if got := w.Pending(); got != s.pending {
					t.Fatalf("step %d (%s): Pending = %d, want %d", i, s.op, got, s.pending)
				}
			}
		})
	}
}

func TestWatermarkPanics(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func(w *parallel.Watermark)
	}{
		{"Register on a negative lane", func(w *parallel.Watermark) { w.Register(-1, "1") }},
		{"Finish more than registered", func(w *parallel.Watermark) { w.Register(0, "1"); w.Finish(0, 2) }},
		{"Finish another lane's records", func(w *parallel.Watermark) { w.Register(0, "1"); w.Finish(1, 1) }},
		{"Finish a negative count", func(w *parallel.Watermark) { w.Register(0, "1"); w.Finish(0, -1) }},
		{"Finish on a negative lane", func(w *parallel.Watermark) { w.Finish(-1, 0) }},
		{"Finish twice", func(w *parallel.Watermark) { w.Register(0, "1"); w.Finish(0, 1); w.Finish(0, 1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("did not panic")
				}
			}()
			var w parallel.Watermark
			tc.f(&w)
		})
	}
}

// TestWatermarkAllocs checks the steady state: once the window has grown,
// registering, finishing and checkpointing allocate nothing.
func TestWatermarkAllocs(t *testing.T) {
	const lanes, perLane = 4, 100
	var w parallel.Watermark
	seqs := make([]string, lanes*perLane)
	for i := range seqs {
		seqs[i] = strconv.Itoa(i)
	}
	round := func() {
		for i, s := range seqs {
			if i/lanes%10 == 9 { // a tenth of each lane's share is filtered out
				w.Skip(s)
			} else {
				w.Register(i%lanes, s)
			}
		}
		for l := lanes - 1; l >= 0; l-- { // the checkpoint moves on the last lane
			w.Finish(l, 90)
			w.Checkpoint()
		}
	}
	round() // grow the ring
	if got := testing.AllocsPerRun(100, round); got != 0 {
		t.Errorf("got %v allocs per round of %d records, want 0", got, len(seqs))
	}
	if got := w.Pending(); got != 0 {
		t.Errorf("Pending = %d, want 0", got)
	}
}

// TestRegisterEachIsRegister drives two Watermarks with the same random
// records and finishes, one registering record by record and one a run at
// a time with RegisterEach: they must agree after every step.
func TestRegisterEachIsRegister(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	var one, each parallel.Watermark
	open := make([]int, 3)
	next := 0
	for step := range 3000 {
		switch op := r.IntN(5); {
		case op < 2:
			lane, n := r.IntN(len(open)), r.IntN(40)
			seqs := make([]string, n)
			for i := range seqs {
				if r.IntN(4) > 0 { // a quarter share their aggregate's "" number
					seqs[i] = fmt.Sprintf("%08d", next)
				}
				next++
				one.Register(lane, seqs[i])
			}
			each.RegisterEach(lane, n, func(i int) string { return seqs[i] })
			open[lane] += n
		case op == 2:
			seq := fmt.Sprintf("%08d", next)
			next++
			if m1, m2 := one.Skip(seq), each.Skip(seq); m1 != m2 {
				t.Fatalf("step %d: Skip moved %v, RegisterEach's %v", step, m1, m2)
			}
		default:
			lane := r.IntN(len(open))
			k := r.IntN(open[lane] + 1)
			if m1, m2 := one.Finish(lane, k), each.Finish(lane, k); m1 != m2 {
				t.Fatalf("step %d: Finish(%d, %d) moved %v, RegisterEach's %v", step, lane, k, m1, m2)
			}
			open[lane] -= k
		}
		c1, _ := one.Checkpoint()
		c2, _ := each.Checkpoint()
		if c1 != c2 || one.Pending() != each.Pending() {
			t.Fatalf("step %d: Register gives %q with %d pending, RegisterEach %q with %d", step, c1, one.Pending(), c2, each.Pending())
		}
	}
}
