package batcher_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime"
	"testing"
	"time"
	"weak"

	"github.com/esmkit/esmkit/batcher"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// intSize measures an int as its own value, so tests choose sizes directly.
func intSize(envelope, sep int) batcher.Size[int] {
	return batcher.Size[int]{Item: func(v *int) int { return *v }, Envelope: envelope, Separator: sep}
}

func mustNew[T any](t testing.TB, l batcher.Limits, s batcher.Size[T]) *batcher.Batcher[T] {
	t.Helper()
	b, err := batcher.New(l, s)
	if err != nil {
		t.Fatalf("New(%+v): %v", l, err)
	}
	return b
}

// drain takes every batch, ready or not.
func drain[T any](b *batcher.Batcher[T], now time.Time) [][]T {
	var out [][]T
	for b.Len() > 0 {
		out = append(out, b.Take(now))
	}
	return out
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		l       batcher.Limits
		wantErr string
	}{
		{"ok", batcher.Limits{Count: 100, Bytes: 6 << 20, Window: time.Second}, ""},
		{"ok minimal", batcher.Limits{Count: 1}, ""},
		{"zero", batcher.Limits{}, "batcher: invalid limits: Count 0, want ≥ 1"},
		{"negative count", batcher.Limits{Count: -1}, "batcher: invalid limits: Count -1, want ≥ 1"},
		{"negative bytes", batcher.Limits{Count: 1, Bytes: -5}, "batcher: invalid limits: Bytes -5, want ≥ 0 (0 is unlimited)"},
		{"negative window", batcher.Limits{Count: 1, Window: -time.Second}, "batcher: invalid limits: Window -1s, want ≥ 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.l.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			if err == nil || err.Error() != tc.wantErr || !errors.Is(err, batcher.ErrInvalidLimits) {
				t.Errorf("got %v, want %q wrapping ErrInvalidLimits", err, tc.wantErr)
			}
			if _, err := batcher.New(tc.l, intSize(0, 0)); !errors.Is(err, batcher.ErrInvalidLimits) {
				t.Errorf("New: got %v, want ErrInvalidLimits", err)
			}
		})
	}
}

func TestNewSize(t *testing.T) {
	tests := []struct {
		name    string
		l       batcher.Limits
		s       batcher.Size[int]
		wantErr string
	}{
		{"nil Item without Bytes", batcher.Limits{Count: 1}, batcher.Size[int]{}, ""},
		{"nil Item with Bytes", batcher.Limits{Count: 1, Bytes: 10}, batcher.Size[int]{}, "batcher: invalid limits: Size.Item is nil with Bytes 10, want a size function"},
		{"negative Envelope", batcher.Limits{Count: 1}, intSize(-1, 0), "batcher: invalid limits: Size.Envelope -1, want ≥ 0"},
		{"negative Separator", batcher.Limits{Count: 1}, intSize(0, -1), "batcher: invalid limits: Size.Separator -1, want ≥ 0"},
		{"Envelope fills Bytes", batcher.Limits{Count: 1, Bytes: 14}, intSize(14, 1), "batcher: invalid limits: Size.Envelope 14, want < Bytes 14"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := batcher.New(tc.l, tc.s)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			if err == nil || err.Error() != tc.wantErr || !errors.Is(err, batcher.ErrInvalidLimits) {
				t.Errorf("got %v, want %q wrapping ErrInvalidLimits", err, tc.wantErr)
			}
		})
	}
}

func TestBatches(t *testing.T) {
	tests := []struct {
		name    string
		l       batcher.Limits
		s       batcher.Size[int]
		items   []int
		want    [][]int
		wantNow bool // Ready right after Add, before the window elapses
	}{
		{
			name:  "count",
			l:     batcher.Limits{Count: 3, Window: time.Second},
			s:     intSize(0, 0),
			items: []int{1, 2, 3, 4, 5, 6, 7},
			want:  [][]int{{1, 2, 3}, {4, 5, 6}, {7}}, wantNow: true,
		},
		{
			name:  "below count waits",
			l:     batcher.Limits{Count: 3, Window: time.Second},
			s:     intSize(0, 0),
			items: []int{1, 2},
			want:  [][]int{{1, 2}},
		},
		{
			// Envelope 2, separator 1, Bytes 10: 2+3+1+4 = 10, then 5 spills;
			// 2+5+1+1 = 9, then 1 spills (9+1+1 = 11).
			name:  "bytes spill in order",
			l:     batcher.Limits{Count: 100, Bytes: 10, Window: time.Second},
			s:     intSize(2, 1),
			items: []int{3, 4, 5, 1, 1, 1, 1},
			want:  [][]int{{3, 4}, {5, 1}, {1, 1, 1}}, wantNow: true,
		},
		{
			name:  "bytes exact fit",
			l:     batcher.Limits{Count: 100, Bytes: 10, Window: time.Second},
			s:     intSize(2, 1),
			items: []int{3, 4, 1},
			want:  [][]int{{3, 4}, {1}}, wantNow: true,
		},
		{
			name:  "oversized item alone",
			l:     batcher.Limits{Count: 100, Bytes: 10, Window: time.Second},
			s:     intSize(2, 1),
			items: []int{1, 50, 1, 1},
			want:  [][]int{{1}, {50}, {1, 1}}, wantNow: true,
		},
		{
			name:  "oversized single item is full",
			l:     batcher.Limits{Count: 100, Bytes: 10, Window: time.Second},
			s:     intSize(2, 1),
			items: []int{50},
			want:  [][]int{{50}}, wantNow: true,
		},
		{
			name:  "no room for even an empty item",
			l:     batcher.Limits{Count: 100, Bytes: 10, Window: time.Second},
			s:     intSize(2, 1),
			items: []int{3, 4},
			want:  [][]int{{3, 4}}, wantNow: true, // 2+3+1+4 = 10, +1 separator > 10
		},
		{
			name:  "room for an empty item waits",
			l:     batcher.Limits{Count: 100, Bytes: 10, Window: time.Second},
			s:     intSize(2, 1),
			items: []int{3, 3},
			want:  [][]int{{3, 3}}, // 2+3+1+3 = 9, +1 separator = 10
		},
		{
			name:  "count before bytes",
			l:     batcher.Limits{Count: 2, Bytes: 100, Window: time.Second},
			s:     intSize(2, 1),
			items: []int{1, 1, 1},
			want:  [][]int{{1, 1}, {1}}, wantNow: true,
		},
		{
			name:  "unlimited bytes",
			l:     batcher.Limits{Count: 4, Window: time.Second},
			s:     intSize(2, 1),
			items: []int{1 << 40, 1 << 40, 1},
			want:  [][]int{{1 << 40, 1 << 40, 1}},
		},
		{
			name:  "window 0",
			l:     batcher.Limits{Count: 10},
			s:     batcher.Size[int]{},
			items: []int{1},
			want:  [][]int{{1}}, wantNow: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := mustNew(t, tc.l, tc.s)
			b.Add(t0, tc.items...)
			if got := b.Ready(t0); got != tc.wantNow {
				t.Errorf("got Ready %v, want %v", got, tc.wantNow)
			}
			sum := 0
			for _, v := range tc.items {
				sum += v
			}
			if tc.s.Item != nil && b.Bytes() != sum {
				t.Errorf("got Bytes %d, want %d", b.Bytes(), sum)
			}
			if got := drain(b, t0); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got batches %v, want %v", got, tc.want)
			}
			if b.Len() != 0 || b.Bytes() != 0 || b.Ready(t0.Add(time.Hour)) || b.Take(t0) != nil {
				t.Errorf("got Len %d Bytes %d after draining, want empty", b.Len(), b.Bytes())
			}
		})
	}
}

func TestWindow(t *testing.T) {
	const w = 5 * time.Second
	b := mustNew(t, batcher.Limits{Count: 3, Window: w}, intSize(0, 0))
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	deadline := func(want time.Time, wantOK bool) {
		t.Helper()
		if got, ok := b.Deadline(); !got.Equal(want) || ok != wantOK {
			t.Errorf("got Deadline %v %v, want %v %v", got, ok, want, wantOK)
		}
	}
	ready := func(now time.Time, want bool) {
		t.Helper()
		if got := b.Ready(now); got != want {
			t.Errorf("got Ready(%v) %v, want %v", now.Sub(t0), got, want)
		}
	}

	deadline(time.Time{}, false)
	ready(at(time.Hour), false)

	b.Add(at(0), 1)
	deadline(at(w), true)
	ready(at(w-1), false)
	ready(at(w), true)

	b.Add(at(2*time.Second), 2) // a later Add does not move the window
	deadline(at(w), true)
	ready(at(w-1), false)

	b.Add(at(3*time.Second), 3, 4) // count reached: ready before the deadline
	ready(at(3*time.Second), true)
	if got := b.Take(at(3 * time.Second)); !reflect.DeepEqual(got, []int{1, 2, 3}) {
		t.Fatalf("got %v, want [1 2 3]", got)
	}
	deadline(at(3*time.Second+w), true) // leftovers start a window at Take
	ready(at(3*time.Second+w-1), false)

	b.StartWindow(at(10 * time.Second)) // the invocation completed
	deadline(at(10*time.Second+w), true)
	ready(at(10*time.Second+w-1), false)
	ready(at(10*time.Second+w), true)

	if got := b.Take(at(20 * time.Second)); !reflect.DeepEqual(got, []int{4}) {
		t.Fatalf("got %v, want [4]", got)
	}
	deadline(time.Time{}, false)
	b.StartWindow(at(30 * time.Second)) // nothing pending: no effect
	b.Add(at(40*time.Second), 5)
	deadline(at(40*time.Second+w), true)
}

func TestSizeCalledOncePerItem(t *testing.T) {
	calls := map[int]int{}
	s := batcher.Size[int]{Item: func(v *int) int { calls[*v]++; return 3 }, Envelope: 2, Separator: 1}
	b := mustNew(t, batcher.Limits{Count: 2, Bytes: 20}, s)
	for i := range 10 {
		b.Add(t0, i)
		_ = b.Ready(t0)
	}
	drain(b, t0)
	for i := range 10 {
		if calls[i] != 1 {
			t.Errorf("got %d calls to Item(%d), want 1", calls[i], i)
		}
	}
}

// TestTakeOwnership checks that a taken batch is not changed by later use of
// the Batcher, and that the caller may append to it.
func TestTakeOwnership(t *testing.T) {
	b := mustNew(t, batcher.Limits{Count: 2}, batcher.Size[int]{})
	b.Add(t0, 1, 2, 3)
	first := b.Take(t0)
	first = append(first, 99)
	for i := range 100 {
		b.Add(t0, 10+i)
		b.Take(t0)
	}
	if want := []int{1, 2, 99}; !reflect.DeepEqual(first, want) {
		t.Errorf("got %v, want %v", first, want)
	}
}

func TestAllocs(t *testing.T) {
	b := mustNew(t, batcher.Limits{Count: 100, Bytes: 1 << 20}, intSize(2, 1))
	items := make([]int, 250)
	for i := range items {
		items[i] = i
	}
	b.Add(t0, items...) // warm up the queue
	drain(b, t0)
	got := testing.AllocsPerRun(100, func() {
		b.Add(t0, items...)
		for b.Ready(t0) {
			b.Take(t0)
		}
	})
	if got > 3 { // one per batch taken
		t.Errorf("got %v allocs per 250 items in 3 batches, want ≤ 3", got)
	}
}

// TestNoRetention checks that the Batcher keeps no reference to items it has
// handed out, so their data can be collected while the Batcher lives on.
func TestNoRetention(t *testing.T) {
	b := mustNew(t, batcher.Limits{Count: 3}, batcher.Size[*[1 << 10]byte]{})
	var weaks []weak.Pointer[[1 << 10]byte]
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 { // enough turns to compact and to grow the queue
		for range rng.IntN(8) {
			p := new([1 << 10]byte)
			weaks = append(weaks, weak.Make(p))
			b.Add(t0, p)
		}
		for range rng.IntN(4) {
			b.Take(t0)
		}
	}
	drain(b, t0)
	runtime.GC()
	for i, w := range weaks {
		if w.Value() != nil {
			t.Fatalf("item %d of %d is still reachable after Take", i, len(weaks))
		}
	}
	runtime.KeepAlive(b)
}

func TestTakeNAndAt(t *testing.T) {
	b, err := batcher.New(batcher.Limits{Count: 4}, batcher.Size[int]{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(0, 0)
	b.Add(now, 1, 2, 3, 4, 5, 6)
	if got := b.At(4); got != 5 {
		t.Errorf("At(4): got %d, want 5", got)
	}
	if got := b.TakeN(now, 2); fmt.Sprint(got) != "[1 2]" {
		t.Errorf("TakeN(2): got %v, want [1 2]", got)
	}
	if got := b.TakeN(now, 10); fmt.Sprint(got) != "[3 4 5 6]" {
		t.Errorf("TakeN(10): got %v, want the next full batch [3 4 5 6]", got)
	}
	if got := b.TakeN(now, 0); got != nil {
		t.Errorf("TakeN(0): got %v, want nil", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("At out of range did not panic")
		}
	}()
	b.At(0)
}

// TestTakenBatchesStayIntact keeps every batch taken while items keep
// coming and going: a batch shares the queue's array, so the Batcher must
// never write where a taken batch is.
func TestTakenBatchesStayIntact(t *testing.T) {
	b := mustNew(t, batcher.Limits{Count: 5}, batcher.Size[int]{})
	rng := rand.New(rand.NewPCG(3, 4))
	var taken [][]int
	next := 0
	for range 2000 {
		for range rng.IntN(12) {
			b.Add(t0, next)
			next++
		}
		if rng.IntN(3) == 0 {
			k := rng.IntN(300)
			items := make([]int, k, k+rng.IntN(2)*5) // spare room the queue must not use
			for i := range items {
				items[i] = next
				next++
			}
			b.AddOwned(t0, items, make([]int, k))
		}
		for range rng.IntN(4) {
			if batch := b.Take(t0); batch != nil {
				taken = append(taken, batch)
			}
		}
	}
	taken = append(taken, drain(b, t0)...)
	want := 0
	for _, batch := range taken {
		if cap(batch) != len(batch) {
			t.Fatalf("batch has capacity %d beyond its %d items: an append would write into the queue", cap(batch), len(batch))
		}
		for _, v := range batch {
			if v != want {
				t.Fatalf("taken item is %d, want %d: a taken batch was overwritten", v, want)
			}
			want++
		}
	}
	if want != next {
		t.Fatalf("got %d items back, want %d", want, next)
	}
}

// TestAddOwnedMatchesAdd feeds the same items, with random sizes, to one
// Batcher through Add and to another through AddOwned with the sizes
// measured beforehand, and requires the same batches; AddOwned must not
// measure again, and a page added to an empty Batcher and taken whole must
// come back in its own array.
func TestAddOwnedMatchesAdd(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	sizeOf := func(v *int) int { return 1 + *v%97 }
	measured := 0
	counting := batcher.Size[int]{Item: func(v *int) int { measured++; return sizeOf(v) }, Envelope: 2, Separator: 1}
	limits := batcher.Limits{Count: 40, Bytes: 900}
	viaAdd := mustNew(t, limits, batcher.Size[int]{Item: sizeOf, Envelope: 2, Separator: 1})
	viaOwned := mustNew(t, limits, counting)
	next := 0
	for round := range 3000 {
		k := rng.IntN(60)
		items, sizes := make([]int, k), make([]int, k)
		for i := range items {
			items[i] = next * 7919 % 1000
			sizes[i] = sizeOf(&items[i])
			next++
		}
		viaAdd.Add(t0, items...)
		viaOwned.AddOwned(t0, items, sizes)
		for range rng.IntN(3) {
			var a, o []int
			if rng.IntN(4) == 0 {
				m := 1 + rng.IntN(50)
				a, o = viaAdd.TakeN(t0, m), viaOwned.TakeN(t0, m)
			} else {
				a, o = viaAdd.Take(t0), viaOwned.Take(t0)
			}
			if viaAdd.Len() > 0 && viaAdd.At(0) != viaOwned.At(0) {
				t.Fatalf("round %d: At(0) %d via Add, %d via AddOwned", round, viaAdd.At(0), viaOwned.At(0))
			}
			if !reflect.DeepEqual(a, o) {
				t.Fatalf("round %d: Add gives batch %v, AddOwned %v", round, a, o)
			}
			if viaAdd.Bytes() != viaOwned.Bytes() || viaAdd.Len() != viaOwned.Len() {
				t.Fatalf("round %d: Add leaves %d items of %d bytes, AddOwned %d of %d", round, viaAdd.Len(), viaAdd.Bytes(), viaOwned.Len(), viaOwned.Bytes())
			}
		}
	}
	if measured != 0 {
		t.Errorf("AddOwned measured %d items again", measured)
	}

	b := mustNew(t, batcher.Limits{Count: 10}, batcher.Size[int]{})
	page := []int{1, 2, 3, 4}
	b.AddOwned(t0, page, make([]int, len(page)))
	if got := b.Take(t0); &got[0] != &page[0] || len(got) != len(page) {
		t.Errorf("a page taken whole was copied: got %v at %p, want its own array %p", got, &got[0], &page[0])
	}
	defer func() {
		if recover() == nil {
			t.Error("AddOwned with fewer sizes than items did not panic")
		}
	}()
	b.AddOwned(t0, []int{1, 2}, []int{1})
}

// TestAddOneAtATimeGrowsGeometrically adds items one by one, as esm does
// for a page it spreads over several lanes, and requires the queue to move
// to a new array O(log n) times, not O(n): each move copies every pending
// item.
func TestAddOneAtATimeGrowsGeometrically(t *testing.T) {
	const n = 20000
	b := mustNew(t, batcher.Limits{Count: n}, batcher.Size[int]{})
	allocs := testing.AllocsPerRun(1, func() {
		for i := range n {
			b.Add(t0, i)
		}
		for b.Len() > 0 {
			b.Take(t0)
		}
	})
	// Two arrays (items and sizes) per move; doubling from 16 to 20000
	// takes 11 moves.
	if allocs > 30 {
		t.Errorf("adding %d items one at a time allocated %v times, want O(log n)", n, allocs)
	}
}

// TestAddOwnedLeavesPendingItemsInPlace adds a page while items of the
// previous one are pending: only the batch spanning both is copied, and the
// batches after it are slices of the new page's own array.
func TestAddOwnedLeavesPendingItemsInPlace(t *testing.T) {
	b := mustNew(t, batcher.Limits{Count: 4}, batcher.Size[int]{})
	first := []int{0, 1, 2, 3, 4, 5}
	b.AddOwned(t0, first, make([]int, len(first)))
	if got := b.Take(t0); &got[0] != &first[0] {
		t.Fatalf("first batch %v was copied", got)
	}
	second := []int{6, 7, 8, 9, 10, 11, 12, 13}
	b.AddOwned(t0, second, make([]int, len(second)))
	spanning := b.Take(t0)
	if want := []int{4, 5, 6, 7}; !reflect.DeepEqual(spanning, want) {
		t.Fatalf("spanning batch %v, want %v", spanning, want)
	}
	next := b.Take(t0)
	if want := []int{8, 9, 10, 11}; !reflect.DeepEqual(next, want) || &next[0] != &second[2] {
		t.Errorf("batch after the spanning one: %v at %p, want %v in the page's array at %p", next, &next[0], want, &second[2])
	}
	if got := b.Take(t0); !reflect.DeepEqual(got, []int{12, 13}) || b.Len() != 0 {
		t.Errorf("last batch %v with %d left, want [12 13] and none", got, b.Len())
	}
}
