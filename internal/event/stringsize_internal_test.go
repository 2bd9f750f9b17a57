package event

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestStringSizeEveryOffset puts each byte that needs escaping or decoding
// at every offset of strings long enough for the eight-byte fast path, and
// requires stringSize to equal len(json.Marshal).
func TestStringSizeEveryOffset(t *testing.T) {
	specials := []string{"\"", "\\", "<", ">", "&", "\x00", "\x1f", "\n", "\x7f", "\x80", "\xff", "é", "\u2028", "\u2029", "😀", " "}
	for _, sp := range specials {
		for length := 8; length <= 40; length++ {
			for at := 0; at+len(sp) <= length; at++ {
				for _, fill := range []string{"a", "3"} {
					s := strings.Repeat("7", at) + sp + strings.Repeat(fill, length-at-len(sp))
					b, err := json.Marshal(s)
					if err != nil {
						t.Fatal(err)
					}
					if got := stringSize(s); got != len(b) {
						t.Fatalf("stringSize(%q) = %d, json.Marshal gives %d bytes", s, got, len(b))
					}
				}
			}
		}
	}
	r := rand.New(rand.NewPCG(4, 2))
	for range 20000 {
		b := make([]byte, r.IntN(64))
		for i := range b {
			if r.IntN(10) == 0 {
				b[i] = byte(r.Uint32())
			} else {
				b[i] = byte(' ' + r.IntN(95))
			}
		}
		s := string(b)
		m, _ := json.Marshal(s)
		if got := stringSize(s); got != len(m) {
			t.Fatalf("stringSize(%q) = %d, json.Marshal gives %d bytes", s, got, len(m))
		}
	}
}

// TestDigits8 puts every byte value at every position of a word of digits:
// digits8 must hold exactly when the byte is a digit, and imply plain8.
func TestDigits8(t *testing.T) {
	for pos := range 8 {
		for c := range 256 {
			w := []byte("59876543")
			w[pos] = byte(c)
			x := uint64(0)
			for i := range 8 {
				x |= uint64(w[i]) << (8 * i)
			}
			want := c >= '0' && c <= '9'
			if got := digits8(x); got != want {
				t.Fatalf("digits8(%q) = %v, want %v", w, got, want)
			}
			if want && !plain8(x) {
				t.Fatalf("digits8(%q) holds but plain8 does not", w)
			}
		}
	}
}
