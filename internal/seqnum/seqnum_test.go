package seqnum_test

import (
	"math/big"
	"testing"

	"github.com/esmkit/esmkit/internal/seqnum"
)

func TestCompare(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want int
	}{
		{"equal", "49590338271490256608559692538361571095921575989136588898", "49590338271490256608559692538361571095921575989136588898", 0},
		{"shorter is less", "9", "10", -1},
		{"longer is greater", "100", "99", 1},
		{"same length lexical", "49590338271490256608559692538361571095921575989136588898", "49590338271490256608559692538361571095921575989136588899", -1},
		{"leading zeros ignored", "0010", "10", 0},
		{"empty before all", "", "0", 0},
		{"empty before one", "", "1", -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := seqnum.Compare(tc.a, tc.b); got != tc.want {
				t.Errorf("Compare(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
			}
		})
	}
}

func FuzzCompare(f *testing.F) {
	f.Add("1", "2")
	f.Add("49590338271490256608559692538361571095921575989136588898", "0049")
	f.Fuzz(func(t *testing.T, a, b string) {
		if !seqnum.Valid(a) || !seqnum.Valid(b) {
			return
		}
		x, _ := new(big.Int).SetString(a, 10)
		y, _ := new(big.Int).SetString(b, 10)
		if got, want := seqnum.Compare(a, b), x.Cmp(y); got != want {
			t.Fatalf("Compare(%q, %q) = %d, want %d", a, b, got, want)
		}
	})
}
