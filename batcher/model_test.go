package batcher_test

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/esmkit/esmkit/batcher"
)

// model is the obvious, slow Batcher: a slice of pending items whose next
// batch is recomputed from scratch on every question.
type model struct {
	l     batcher.Limits
	s     batcher.Size[int]
	items []int
	start time.Time
}

func (m *model) add(now time.Time, items ...int) {
	if len(m.items) == 0 && len(items) > 0 {
		m.start = now
	}
	m.items = append(m.items, items...)
}

// next returns the length and size of the next batch.
func (m *model) next() (n, size int) {
	for n < len(m.items) && n < m.l.Count {
		grown := size + m.s.Separator + m.s.Item(&m.items[n])
		if n == 0 {
			grown = m.s.Envelope + m.s.Item(&m.items[0])
		} else if m.l.Bytes > 0 && grown > m.l.Bytes {
			break
		}
		n, size = n+1, grown
	}
	return n, size
}

func (m *model) ready(now time.Time) bool {
	if len(m.items) == 0 {
		return false
	}
	n, size := m.next()
	switch {
	case n == m.l.Count, n < len(m.items): // full by count, or the next item does not fit
		return true
	case m.l.Bytes > 0 && size+m.s.Separator > m.l.Bytes: // nothing could fit
		return true
	}
	return !now.Before(m.start.Add(m.l.Window))
}

func (m *model) take(now time.Time) []int {
	if len(m.items) == 0 {
		return nil
	}
	n, _ := m.next()
	out := m.items[:n:n]
	m.items = m.items[n:]
	m.start = now
	return out
}

func (m *model) bytes() int {
	sum := 0
	for i := range m.items {
		sum += m.s.Item(&m.items[i])
	}
	return sum
}

// TestModel drives a Batcher and the model with the same random operations
// and compares every observable.
func TestModel(t *testing.T) {
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 1))
		sizes := make([]int, 0, 4096)
		s := batcher.Size[int]{
			Item:      func(v *int) int { return sizes[*v] },
			Envelope:  rng.IntN(20),
			Separator: rng.IntN(3),
		}
		l := batcher.Limits{
			Count:  1 + rng.IntN(20),
			Window: time.Duration(rng.IntN(4)) * time.Second,
		}
		if rng.IntN(4) > 0 {
			l.Bytes = s.Envelope + 1 + rng.IntN(200)
		}
		b, err := batcher.New(l, s)
		if err != nil {
			t.Fatal(err)
		}
		m := &model{l: l, s: s}
		now := time.Unix(1_700_000_000, 0)
		next := 0
		for step := range 500 {
			switch op := rng.IntN(10); {
			case op < 4:
				var items []int
				for range rng.IntN(12) {
					// Mostly small, sometimes bigger than Bytes.
					sz := rng.IntN(30)
					if rng.IntN(20) == 0 {
						sz = rng.IntN(400)
					}
					sizes = append(sizes, sz)
					items = append(items, next)
					next++
				}
				b.Add(now, items...)
				m.add(now, items...)
			case op < 7:
				if got, want := b.Take(now), m.take(now); !reflect.DeepEqual(got, want) {
					t.Fatalf("seed %d step %d %+v: got Take %v, want %v", seed, step, l, got, want)
				}
			case op < 8:
				b.StartWindow(now)
				if len(m.items) > 0 {
					m.start = now
				}
			default:
				now = now.Add(time.Duration(rng.IntN(2500)) * time.Millisecond)
			}
			if got, want := b.Ready(now), m.ready(now); got != want {
				t.Fatalf("seed %d step %d %+v: got Ready %v, want %v", seed, step, l, got, want)
			}
			if got, want := b.Len(), len(m.items); got != want {
				t.Fatalf("seed %d step %d: got Len %d, want %d", seed, step, got, want)
			}
			if got, want := b.Bytes(), m.bytes(); got != want {
				t.Fatalf("seed %d step %d: got Bytes %d, want %d", seed, step, got, want)
			}
			d, ok := b.Deadline()
			if ok != (len(m.items) > 0) || ok && !d.Equal(m.start.Add(l.Window)) {
				t.Fatalf("seed %d step %d: got Deadline %v %v, want %v %v", seed, step, d, ok, m.start.Add(l.Window), len(m.items) > 0)
			}
		}
	}
}
