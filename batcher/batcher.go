// Package batcher groups records into batches by count, bytes and time window.
//
// A [Batcher] is a plain data structure: it starts no goroutines and reads no
// clock. Its owner (one loop per shard or lane) passes the current time to
// each call, asks [Batcher.Ready] whether to [Batcher.Take] a batch now, and
// otherwise waits for more items or for [Batcher.Deadline]. This keeps all
// timing in the owner's select loop and makes the batcher trivially testable.
//
// # Batches
//
// Items leave in the order they were added. The next batch is the longest
// prefix of the pending items with at most [Limits.Count] items and at most
// [Limits.Bytes] bytes as measured by [Size], except that it always holds at
// least one item: an item too big for Bytes on its own goes alone, and the
// caller decides what to do with it. The first item that would not fit starts
// the next batch; nothing is reordered or dropped.
//
// # Readiness and the window
//
// The next batch is ready when it is full or its window has elapsed. It is
// full when it has Count items, when the pending item after it would not fit
// in Bytes, or when not even an empty item would fit (its bytes plus one
// Separator exceed Bytes). The window of the pending items starts when an
// item is added to an empty Batcher, when [Batcher.Take] leaves items behind
// (at the time passed to Take), or when [Batcher.StartWindow] restarts it.
// With Window 0 any pending item is ready at once. These are the three
// triggers of Lambda's event source mapping: BatchSize, the 6 MB payload and
// MaximumBatchingWindowInSeconds; Lambda starts the next window when the
// previous invocation completes, which is what StartWindow is for.
package batcher

import (
	"errors"
	"fmt"
	"time"
)

// ErrInvalidLimits is wrapped by the errors of [Limits.Validate] and [New].
var ErrInvalidLimits = errors.New("batcher: invalid limits")

// Limits bound a batch. The zero Limits is invalid: Count must be set.
type Limits struct {
	// Count is the most items in a batch, at least 1 (Lambda's BatchSize,
	// 1 to 10,000, is checked by the caller).
	Count int
	// Bytes is the most bytes in a batch as measured by [Size], Envelope and
	// separators included. 0 means unlimited.
	Bytes int
	// Window is how long a partial batch waits for more items (Lambda's
	// MaximumBatchingWindowInSeconds). 0 means a batch is ready as soon as it
	// has an item.
	Window time.Duration
}

// Validate reports whether l is usable, naming the first bad field, its value
// and the allowed range.
func (l Limits) Validate() error {
	switch {
	case l.Count < 1:
		return fmt.Errorf("%w: Count %d, want ≥ 1", ErrInvalidLimits, l.Count)
	case l.Bytes < 0:
		return fmt.Errorf("%w: Bytes %d, want ≥ 0 (0 is unlimited)", ErrInvalidLimits, l.Bytes)
	case l.Window < 0:
		return fmt.Errorf("%w: Window %v, want ≥ 0", ErrInvalidLimits, l.Window)
	}
	return nil
}

// Size measures a batch: its size is Envelope + Σ Item(x) + Separator×(n−1)
// for n ≥ 1 items. For a JSON array of encoded items, Envelope is the size of
// the empty document and Separator is 1 (the comma).
type Size[T any] struct {
	// Item returns the size of one item, ≥ 0. It is called once per item,
	// by Add or AddFunc, and the result is kept with the item. It takes a
	// pointer so that large items are not copied to be measured; it must
	// not keep the pointer. It may be nil when Limits.Bytes is 0, and every
	// item then has size 0.
	Item func(*T) int
	// Envelope is the size of a batch beyond its items and separators, ≥ 0.
	Envelope int
	// Separator is the size between two consecutive items, ≥ 0.
	Separator int
}

// A Batcher holds pending items and cuts them into batches. Make one with
// [New]; the zero Batcher is not usable. A Batcher is not safe for concurrent
// use: it belongs to the one goroutine that runs its loop.
type Batcher[T any] struct {
	limits Limits
	size   Size[T]

	// carry, then items[head:], are the pending items, oldest first, with
	// their sizes in carrySizes and sizes[head:]. items[:head] were handed
	// out by Take and belong to the callers: the Batcher never writes them
	// again. items[len:cap] has never been written, so it is zero. Appends
	// go there; when it runs out, the pending items move to a new array and
	// the old one is left to the batches that use it. A drained Batcher
	// drops its arrays.
	//
	// carry is what was pending when AddOwned gave the queue the caller's
	// array, left where it was instead of being copied with that array. A
	// batch within carry is a slice of it; the one batch that spans carry
	// and items is copied into an array of its own, which copies at most a
	// batch where merging would copy the whole new array.
	items      []T
	sizes      []int
	head       int
	carry      []T
	carrySizes []int
	bytes      int       // Σ sizes of the pending items
	start      time.Time // window start of the pending items, if any

	// The next batch is the first n pending items; it is kept up to date by grow
	// so that Ready is O(1) and each item is measured into a batch once.
	// Invariant: full, or n == Len().
	n      int
	nBytes int  // Envelope + Σ size + Separator×(n−1), if n > 0
	full   bool // the next batch cannot take another item
}

// New returns an empty Batcher, or an error wrapping [ErrInvalidLimits] if l
// is invalid or s does not fit it.
func New[T any](l Limits, s Size[T]) (*Batcher[T], error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	switch {
	case s.Envelope < 0:
		return nil, fmt.Errorf("%w: Size.Envelope %d, want ≥ 0", ErrInvalidLimits, s.Envelope)
	case s.Separator < 0:
		return nil, fmt.Errorf("%w: Size.Separator %d, want ≥ 0", ErrInvalidLimits, s.Separator)
	case l.Bytes > 0 && s.Item == nil:
		return nil, fmt.Errorf("%w: Size.Item is nil with Bytes %d, want a size function", ErrInvalidLimits, l.Bytes)
	case l.Bytes > 0 && s.Envelope >= l.Bytes:
		return nil, fmt.Errorf("%w: Size.Envelope %d, want < Bytes %d", ErrInvalidLimits, s.Envelope, l.Bytes)
	}
	return &Batcher[T]{limits: l, size: s}, nil
}

// Len returns the number of pending items, including read-ahead beyond the
// next batch.
func (b *Batcher[T]) Len() int { return len(b.carry) + len(b.items) - b.head }

// sizeAt returns the size of pending item i.
func (b *Batcher[T]) sizeAt(i int) int {
	if i < len(b.carry) {
		return b.carrySizes[i]
	}
	return b.sizes[b.head+i-len(b.carry)]
}

// Bytes returns Σ Size.Item over the pending items, without Envelope or
// separators: a measure for bounding read-ahead.
func (b *Batcher[T]) Bytes() int { return b.bytes }

// Add appends items to the pending items in order, measuring each once with
// Size.Item. If the Batcher was empty, the window starts at now. Add does not
// allocate per item: the queue moves to a new array, with room for twice
// the items added, only when the current one is used up.
func (b *Batcher[T]) Add(now time.Time, items ...T) {
	if len(items) == 0 {
		return
	}
	if b.Len() == 0 {
		b.start = now
	}
	b.reserve(len(items))
	old := len(b.items)
	b.items = append(b.items, items...)
	b.measure(old)
}

// AddOwned appends items, whose sizes (Size.Item of each) the caller has
// measured, and takes ownership of their array, which becomes the queue
// itself: a page of large items is neither copied nor measured again. Items
// already pending stay in their array, ahead of it, and only the batch that
// spans both is copied. The caller must not use items or sizes afterwards.
// Otherwise it is Add.
func (b *Batcher[T]) AddOwned(now time.Time, items []T, sizes []int) {
	if len(items) != len(sizes) {
		panic(fmt.Sprintf("batcher: AddOwned with %d items and %d sizes", len(items), len(sizes)))
	}
	if len(items) == 0 {
		return
	}
	if b.Len() == 0 {
		b.start = now
	}
	if len(b.carry) == 0 {
		// Full slices: the queue never writes past them, as it never
		// writes into room it did not allocate.
		tail := len(b.items)
		b.carry, b.carrySizes = b.items[b.head:tail:tail], b.sizes[b.head:tail:tail]
		if len(b.carry) == 0 {
			b.carry, b.carrySizes = nil, nil
		}
		b.items, b.sizes, b.head = items[:len(items):len(items)], sizes[:len(sizes):len(sizes)], 0
	} else {
		// A third array: rare enough (pages arrive after the previous one
		// is mostly taken) to merge it by copying.
		b.reserve(len(items))
		b.items = append(b.items, items...)
		b.sizes = append(b.sizes, sizes...)
	}
	b.bytes += sum(sizes)
	b.grow()
}

func sum(s []int) int {
	n := 0
	for _, v := range s {
		n += v
	}
	return n
}

// measure sizes the items appended from index old on, then grows the next
// batch over them.
func (b *Batcher[T]) measure(old int) {
	for i := old; i < len(b.items); i++ {
		s := 0
		if b.size.Item != nil {
			s = b.size.Item(&b.items[i])
		}
		b.sizes = append(b.sizes, s)
		b.bytes += s
	}
	b.grow()
}

// Ready reports whether the next batch should be taken at now: it is full
// (by Count or by Bytes), or it has an item and its window has elapsed.
func (b *Batcher[T]) Ready(now time.Time) bool {
	if b.n == 0 {
		return false
	}
	return b.full || !now.Before(b.start.Add(b.limits.Window))
}

// Deadline returns when the pending items become ready by their window, and
// false if nothing is pending. It does not account for a full batch, which
// is ready at once: check Ready first.
func (b *Batcher[T]) Deadline() (time.Time, bool) {
	if b.Len() == 0 {
		return time.Time{}, false
	}
	return b.start.Add(b.limits.Window), true
}

// StartWindow restarts the window of the pending items at now. Lambda starts
// the next batching window when the previous invocation completes, so a
// caller that takes a batch, invokes, and then waits calls StartWindow when
// the invocation returns. With nothing pending it does nothing: the next Add
// starts the window.
func (b *Batcher[T]) StartWindow(now time.Time) {
	if b.Len() > 0 {
		b.start = now
	}
}

// Take removes and returns the next batch, whether or not it is Ready (so a
// caller can flush at shutdown), or nil if nothing is pending. The batch is
// the longest prefix within Count and Bytes, with at least one item. Items
// left behind start a new window at now.
//
// The returned slice is owned by the caller: the Batcher never reads or
// writes it again. It shares its array with other batches and with items
// still pending (its capacity equals its length, so appending to it
// copies), which saves copying every item once more.
func (b *Batcher[T]) Take(now time.Time) []T { return b.take(now, b.n) }

// TakeN is Take limited to at most max items: for callers that must end a
// batch early, such as at a tumbling-window boundary. It returns nil if max
// is not positive.
func (b *Batcher[T]) TakeN(now time.Time, max int) []T {
	if max <= 0 {
		return nil
	}
	return b.take(now, min(max, b.n))
}

// At returns pending item i (0 is the oldest). It panics if i is out of
// range, like a slice index.
func (b *Batcher[T]) At(i int) T {
	if i < 0 || i >= b.Len() {
		panic(fmt.Sprintf("batcher: At(%d) with %d pending items", i, b.Len()))
	}
	if i < len(b.carry) {
		return b.carry[i]
	}
	return b.items[b.head+i-len(b.carry)]
}

// take removes and returns the first n pending items, n ≤ b.n.
func (b *Batcher[T]) take(now time.Time, n int) []T {
	if n == 0 {
		return nil
	}
	var out []T
	switch c := len(b.carry); {
	case c == 0:
		end := b.head + n
		out = b.items[b.head:end:end]
		b.bytes -= sum(b.sizes[b.head:end])
		b.head = end
	case n <= c:
		out = b.carry[:n:n]
		b.bytes -= sum(b.carrySizes[:n])
		b.carry, b.carrySizes = b.carry[n:], b.carrySizes[n:]
		if len(b.carry) == 0 {
			b.carry, b.carrySizes = nil, nil
		}
	default:
		// The batch spans carry and items: it gets an array of its own.
		k := n - c
		out = make([]T, n)
		copy(out, b.carry)
		copy(out[c:], b.items[b.head:b.head+k])
		b.bytes -= sum(b.carrySizes) + sum(b.sizes[b.head:b.head+k])
		b.head += k
		b.carry, b.carrySizes = nil, nil
	}
	b.n, b.nBytes, b.full = 0, 0, false
	if b.Len() == 0 {
		// Drop the array, so that a drained Batcher retains nothing; the
		// next Add allocates what it needs.
		b.items, b.sizes, b.head = nil, nil, 0
		return out
	}
	b.start = now
	b.grow()
	return out
}

// grow extends the next batch over the pending items that fit, and decides
// whether it is full. Each item is added to a batch once, and each call stops
// at the first item that does not fit, so Add and Take are amortised O(1)
// per item.
func (b *Batcher[T]) grow() {
	l, s := b.limits, b.size
	for !b.full && b.n < b.Len() {
		if b.n == l.Count {
			b.full = true
			break
		}
		sz := b.sizeAt(b.n)
		if b.n == 0 {
			b.nBytes = s.Envelope + sz // the first item always fits
		} else if l.Bytes > 0 && b.nBytes+s.Separator+sz > l.Bytes {
			b.full = true // the next item does not fit by bytes
			break
		} else {
			b.nBytes += s.Separator + sz
		}
		b.n++
	}
	if b.n == l.Count || (b.n > 0 && l.Bytes > 0 && b.nBytes+s.Separator > l.Bytes) {
		b.full = true // nothing more could fit, whatever arrives
	}
}

// reserve makes room to append k entries: when the array has no unwritten
// room left, the pending entries of items move to a new array twice the
// size they and the k need, so that adding items one at a time costs
// amortised O(1) copies each (or to one of exactly k, when none is
// pending: a page added to an empty Batcher and taken whole is never
// copied). An array stays alive only while a batch taken from it or a
// pending entry does, so memory stays within a small multiple of the most
// items ever pending plus the batches in use.
func (b *Batcher[T]) reserve(k int) {
	// items and sizes always have equal lengths and capacities.
	if len(b.items)+k <= cap(b.items) {
		return
	}
	live := len(b.items) - b.head // carry stays where it is
	n := max(2*(live+k), 16)
	if live == 0 {
		n = max(k, 16)
	}
	items, sizes := make([]T, live, n), make([]int, live, n)
	copy(items, b.items[b.head:])
	copy(sizes, b.sizes[b.head:])
	b.items, b.sizes, b.head = items, sizes, 0
}
