package parallel_test

import (
	"crypto/md5"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/esmkit/esmkit/parallel"
)

// TestLaneGolden fixes the assignment: it must never change between
// versions, or a rolling deploy would split a key across lanes. The values
// come from Python's hashlib, independently of this package.
func TestLaneGolden(t *testing.T) {
	for _, tc := range []struct {
		key  string
		want [4]int // lanes for n = 2, 3, 4, 10
	}{
		{"", [4]int{0, 0, 2, 6}},
		{"a", [4]int{1, 1, 1, 7}},
		{"partition-key-1", [4]int{0, 2, 2, 4}},
		{"user-42", [4]int{1, 0, 3, 5}},
		{"7c9e6679-7425-40de-944b-e07fc1f90ae7", [4]int{0, 1, 0, 0}},
		{"ключ", [4]int{1, 1, 3, 1}},
	} {
		t.Run(fmt.Sprintf("%q", tc.key), func(t *testing.T) {
			for i, n := range []int{2, 3, 4, 10} {
				if got := parallel.Lane(tc.key, n); got != tc.want[i] {
					t.Errorf("Lane(%q, %d) = %d, want %d", tc.key, n, got, tc.want[i])
				}
			}
		})
	}
}

// TestLaneBig checks Lane against the definition, computed with math/big,
// for random keys (some longer than the stack buffer) and lane counts.
func TestLaneBig(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ns := []int{1, 2, 3, 5, 7, 10, 1<<31 - 1, 1 << 40, math.MaxInt}
	for range 5000 {
		key := randKey(r, r.IntN(1100))
		n := ns[r.IntN(len(ns))]
		if r.IntN(4) == 0 {
			n = 1 + r.IntN(math.MaxInt)
		}
		sum := md5.Sum([]byte(key))
		want := new(big.Int).Mod(new(big.Int).SetBytes(sum[:]), big.NewInt(int64(n)))
		if got := parallel.Lane(key, n); int64(got) != want.Int64() {
			t.Fatalf("Lane(%q, %d) = %d, want %d", key, n, got, want)
		}
	}
}

// TestLaneSameKeySameLane is the ordering property: for a fixed n, equal
// keys (here with separate backing arrays) always get the same lane, in
// [0, n).
func TestLaneSameKeySameLane(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		n := 1 + r.IntN(10)
		key := randKey(r, r.IntN(300))
		got := parallel.Lane(key, n)
		again := parallel.Lane(strings.Clone(key), n)
		if got != again || got < 0 || got >= n {
			t.Fatalf("Lane(%q, %d) = %d, then %d, want equal and in [0, %d)", key, n, got, again, n)
		}
	}
}

// TestLaneSpread checks that keys spread over the lanes: with 20,000 keys
// and 10 lanes, each lane gets 2,000 ± 10%. The keys are fixed, so this
// is deterministic.
func TestLaneSpread(t *testing.T) {
	const keys, n = 20000, 10
	var count [n]int
	for i := range keys {
		count[parallel.Lane(fmt.Sprintf("key-%d", i), n)]++
	}
	for lane, c := range count {
		if c < keys/n*9/10 || c > keys/n*11/10 {
			t.Errorf("lane %d got %d keys, want %d ± 10%%", lane, c, keys/n)
		}
	}
}

func TestLaneAllocs(t *testing.T) {
	for _, size := range []int{0, 16, 36, 256, 1024} {
		key := strings.Repeat("k", size)
		if got := testing.AllocsPerRun(100, func() { parallel.Lane(key, 7) }); got != 0 {
			t.Errorf("Lane with a %d-byte key: got %v allocs, want 0", size, got)
		}
	}
}

func TestLanePanics(t *testing.T) {
	for _, n := range []int{0, -1, math.MinInt} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Lane(\"k\", %d) did not panic", n)
				}
			}()
			parallel.Lane("k", n)
		})
	}
}

// randKey returns size random bytes, usually printable, sometimes not UTF-8.
func randKey(r *rand.Rand, size int) string {
	b := make([]byte, size)
	for i := range b {
		if r.IntN(8) == 0 {
			b[i] = byte(r.Uint32())
		} else {
			b[i] = byte('!' + r.IntN(94))
		}
	}
	return string(b)
}
