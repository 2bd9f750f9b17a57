package kinesisfast_test

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"testing"

	"github.com/esmkit/esmkit/kinesisfast"
)

// FuzzBase64 requires the decoder's base64 loop to give the standard
// library's result for any input: the same bytes, and an error exactly when
// it reports one.
func FuzzBase64(f *testing.F) {
	for _, s := range []string{"", "QQ==", "QUI=", "QUJD", "QUJDRA==", "QUJDREVGR0g=", "QUJD\nREVGR0hJSktM", "QUJD\r\nREVG", "QUJ=REVG", "====", "QUJDREVGR0hJ*ktM", "QUJDREVGR0hJSktMTU5PUA"} {
		f.Add([]byte(s), 0)
	}
	f.Fuzz(func(t *testing.T, src []byte, extra int) {
		extra = min(max(extra, 0), 16)
		size := base64.StdEncoding.DecodedLen(len(src)) + extra
		want := bytes.Repeat([]byte{0xAA}, size)
		got := bytes.Repeat([]byte{0xAA}, size)
		wn, werr := base64.StdEncoding.Decode(want, src)
		gn, gerr := kinesisfast.DecodeBase64(got, src)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%q: error %v, standard library %v", src, gerr, werr)
		}
		if werr != nil {
			return
		}
		if gn != wn || !bytes.Equal(got[:gn], want[:wn]) {
			t.Fatalf("%q: decoded %d bytes %x, standard library %d bytes %x", src, gn, got[:gn], wn, want[:wn])
		}
	})
}

func BenchmarkBase64(b *testing.B) {
	raw := make([]byte, 1024)
	for i := range raw {
		raw[i] = byte(rand.Uint32())
	}
	src := []byte(base64.StdEncoding.EncodeToString(raw))
	dst := make([]byte, len(raw)+8)
	for _, tc := range []struct {
		name string
		dec  func(dst, src []byte) (int, error)
	}{
		{"stdlib", base64.StdEncoding.Decode},
		{"kinesisfast", kinesisfast.DecodeBase64},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				if _, err := tc.dec(dst, src); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
