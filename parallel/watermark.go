package parallel

import (
	"fmt"
	"sync"
)

// A Watermark finds a shard's checkpoint when records finish out of shard
// order on several lanes: the sequence number of the latest record that is
// finished, with every record registered before it.
//
// Records are registered in shard order, each on its lane ([Watermark.Register])
// or as already finished ([Watermark.Skip]), and each lane finishes its records
// in the order they were registered on it ([Watermark.Finish]), while lanes
// interleave freely. That order is what esm's lanes give: a lane runs one
// batch at a time, and a batch's success, partial success, expired prefix,
// bisected half or discard always finishes a prefix of the lane's unfinished
// records. So a Watermark needs no per-record positions from its caller, only
// a count per lane.
//
// A record registered with an empty sequence number is tracked like any
// other but never reported: the watermark passes it and stays at the last
// non-empty sequence number before it. Use it for de-aggregated user records
// that share their aggregate's sequence number, all but the last of them, so
// that the checkpoint never claims a partly finished aggregate.
//
// The zero Watermark is empty and ready to use, with any number of lanes. A
// Watermark is safe for concurrent use: the usual caller registers from the
// shard's reading goroutine, finishes from each lane's goroutine and asks for
// the checkpoint from a third. Calls take a mutex and never block otherwise,
// so every call observes every call that returned before it started; in
// particular a Checkpoint that starts after Finish returns accounts for the
// records Finish finished. A Watermark must not be copied after first use.
//
// Each call is amortised O(1) per record, and Register, Skip and Finish do
// not allocate (RegisterEach allocates one small run per call) once the
// Watermark has grown to its largest window: the records between the
// checkpoint and the newest registered record ([Watermark.Pending]). The
// window is a ring of entries, one per record or one per RegisterEach run,
// that keeps its largest size, so a caller bounds memory by bounding the
// window; registering a page as a run keeps the ring small, which the
// garbage collector scans on every cycle.
type Watermark struct {
	mu sync.Mutex // guards every field below

	// ring[head], ring[head+1 mod len], … are the entries of the window,
	// oldest first: a record each, or a run of records from RegisterEach.
	// len(ring) is 0 or a power of two. n counts the records of the window.
	// The first record not yet passed is unfinished whenever n > 0: the
	// watermark is moved past finished records as soon as they are finished.
	ring    []entry
	head    int
	entries int
	n       int

	// lanes[i] counts the records of lane i; lanes grows to the highest lane
	// registered.
	lanes []laneCount

	mark  string // the reported checkpoint, "" until a record is passed
	moves uint64 // how many times mark has changed
	asked uint64 // moves when Checkpoint was last called
}

// entry is one record in the window, or a run of records of one lane
// registered together. A record costs an entry of three words, as before
// runs existed; a run adds one small allocation per RegisterEach.
type entry struct {
	seq  string // a single record's
	run  *run   // or nil
	lane int    // or skipped
}

// run is count records registered by one RegisterEach, whose sequence
// numbers seqAt gives; off of them are passed already.
type run struct {
	seqAt      func(int) string
	count, off int
}

// left returns how many records of e are not passed yet.
func (e *entry) left() int {
	if e.run == nil {
		return 1
	}
	return e.run.count - e.run.off
}

// pass passes the next k records of e and returns the last non-empty
// sequence number among them, or "".
func (e *entry) pass(k int) string {
	r := e.run
	if r == nil {
		return e.seq
	}
	from := r.off
	r.off += k
	for i := r.off - 1; i >= from; i-- {
		if s := r.seqAt(i); s != "" {
			return s
		}
	}
	return ""
}

// skipped is the lane of a record that was finished when registered.
const skipped = -1

// laneCount counts one lane's records. Because a lane finishes its records
// in its own order, the record of lane i nearest the head of the window is
// finished exactly when lanes[i].done > 0: the lane's first done records in
// the window are the finished ones.
type laneCount struct {
	open int // registered, not yet finished
	done int // finished, still in the window behind another lane's record
}

// Register adds the next record of the shard, in shard order, as unfinished
// on lane. seq is the sequence number to report once it and every earlier
// record are finished, or "" for none (see [Watermark]). Lanes are numbered
// from 0 and cost two ints each, up to the highest used. Register panics if
// lane < 0. It is safe for concurrent use, but records take their order from
// the calls, so one goroutine should register a shard's records.
func (w *Watermark) Register(lane int, seq string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.openLaneLocked(lane, 1)
	w.pushLocked(entry{seq: seq, lane: lane}, 1)
}

// RegisterEach is Register(lane, seq(i)) for i from 0 to n-1, under one
// lock and as one entry of the window: for a page of records bound for the
// same lane. The Watermark keeps seq, and what it refers to, until every
// one of the n records is passed; it calls seq only for the records where
// the watermark stops or passes, under its lock.
func (w *Watermark) RegisterEach(lane, n int, seq func(i int) string) {
	if n <= 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.openLaneLocked(lane, n)
	w.pushLocked(entry{run: &run{seqAt: seq, count: n}, lane: lane}, n)
}

// openLaneLocked counts n more unfinished records on lane, growing lanes to
// it. It panics if lane < 0. w.mu must be held.
func (w *Watermark) openLaneLocked(lane, n int) {
	if lane < 0 {
		panic(fmt.Sprintf("parallel: Register on lane %d, want ≥ 0", lane))
	}
	if lane >= len(w.lanes) {
		w.lanes = append(w.lanes, make([]laneCount, lane+1-len(w.lanes))...)
	}
	w.lanes[lane].open += n
}

// Skip adds the next record of the shard, in shard order, as already
// finished: one filtered out or dropped before it reached a lane. It reports
// whether the checkpoint moved, which it does when every earlier record is
// finished and seq is not "". It is safe for concurrent use, in the same
// order as [Watermark.Register].
func (w *Watermark) Skip(seq string) (moved bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.n == 0 {
		// Nothing unfinished before it: pass it at once.
		return w.moveLocked(seq)
	}
	w.pushLocked(entry{seq: seq, lane: skipped}, 1)
	return false
}

// Finish marks the k oldest unfinished records of lane as finished:
// processed, or discarded to a destination or by policy. It reports whether
// the checkpoint moved, so that a lane can wake the goroutine that saves it.
// A lane that is retrying a failed batch simply does not call Finish, and
// the checkpoint waits at its oldest unfinished record while other lanes go
// on.
//
// Finish panics if lane has fewer than k unfinished records, or k < 0. It
// is safe for concurrent use and never blocks but on the mutex.
func (w *Watermark) Finish(lane, k int) (moved bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if lane < 0 || k < 0 || k > w.openLocked(lane) {
		panic(fmt.Sprintf("parallel: Finish(%d, %d) with %d records open on lane %d",
			lane, k, w.openLocked(lane), lane))
	}
	if k == 0 {
		return false
	}
	w.lanes[lane].open -= k
	w.lanes[lane].done += k
	return w.advanceLocked()
}

// Checkpoint returns the sequence number of the latest record that is
// finished with every record registered before it (skipping records
// registered with ""), or "" if there is none yet. moved reports whether it
// changed since the previous call to Checkpoint, so a saver can skip
// unchanged writes; the first call reports moved if seq is not "". The
// checkpoint only moves forward, and never past an unfinished record. It is
// safe for concurrent use.
func (w *Watermark) Checkpoint() (seq string, moved bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	moved = w.moves != w.asked
	w.asked = w.moves
	return w.mark, moved
}

// Pending returns how many records the checkpoint has not yet passed: those
// unfinished, and the finished ones that wait behind them. It is 0 exactly
// when every registered record is finished, and then Checkpoint is at the
// last registered record (with a non-empty seq). A reader bounds memory by
// not registering more while Pending is at its limit. It is safe for
// concurrent use.
func (w *Watermark) Pending() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

// openLocked returns the unfinished records of lane. w.mu must be held.
func (w *Watermark) openLocked(lane int) int {
	if lane < 0 || lane >= len(w.lanes) {
		return 0
	}
	return w.lanes[lane].open
}

// advanceLocked moves the watermark past the finished records at the head
// of the window and reports whether the mark changed. Each record is passed
// once, so the cost is amortised O(1) per record. w.mu must be held.
func (w *Watermark) advanceLocked() (moved bool) {
	mask := len(w.ring) - 1
	last := ""
	for w.entries > 0 {
		e := &w.ring[w.head]
		left := e.left()
		k := left
		if e.lane != skipped {
			c := &w.lanes[e.lane]
			if c.done == 0 {
				break // the lane's oldest unfinished record
			}
			k = min(k, c.done)
			c.done -= k
		}
		if s := e.pass(k); s != "" {
			last = s
		}
		w.n -= k
		if k < left {
			break // the lane's next record, in this run, is unfinished
		}
		*e = entry{} // retain nothing behind the watermark
		w.head = (w.head + 1) & mask
		w.entries--
	}
	return w.moveLocked(last)
}

// moveLocked sets the mark to seq unless seq is "". w.mu must be held.
func (w *Watermark) moveLocked(seq string) bool {
	if seq == "" || seq == w.mark {
		return false
	}
	w.mark = seq
	w.moves++
	return true
}

// pushLocked appends e, of n records, to the window, doubling the ring when
// it is full. w.mu must be held.
func (w *Watermark) pushLocked(e entry, n int) {
	if w.entries == len(w.ring) {
		ring := make([]entry, max(16, 2*len(w.ring)))
		// Copy the window in order to the front of the new ring.
		k := copy(ring, w.ring[w.head:])
		copy(ring[k:], w.ring[:w.head])
		w.ring, w.head = ring, 0
	}
	w.ring[(w.head+w.entries)&(len(w.ring)-1)] = e
	w.entries++
	w.n += n
}
