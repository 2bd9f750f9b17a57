package kinesisfast

import (
	"encoding/base64"
	"encoding/binary"
)

// b64 holds, for each position of a 4-character quantum, every byte's 6-bit
// value already shifted into place, or badQuantum for a byte outside the
// standard alphabet (padding and line breaks included), so that a quantum
// decodes with four loads and three ORs.
var b64 = func() (t [4][256]uint32) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for pos := range t {
		for c := range t[pos] {
			t[pos][c] = badQuantum
		}
		for v, c := range []byte(alphabet) {
			t[pos][c] = uint32(v) << (18 - 6*pos)
		}
	}
	return t
}()

// badQuantum is outside the 24 bits a valid quantum fills.
const badQuantum = 1 << 24

// decodeBase64 decodes src into dst exactly as base64.StdEncoding.Decode
// does, which it calls for what its own loop does not take: the last
// quanta (padding), anything outside the alphabet (line breaks, which the
// standard library skips, and errors) and the room at the end of dst. Base64
// quanta decode independently, so the result is the same bytes; errors are
// reported, with offsets relative to where the loop stopped.
func decodeBase64(dst, src []byte) (int, error) {
	n, i := 0, 0
	for len(src)-i >= 16 && len(dst)-n >= 14 {
		s := src[i : i+16 : i+16]
		x, y, z, w := quantum(s[0:4]), quantum(s[4:8]), quantum(s[8:12]), quantum(s[12:16])
		if (x|y|z|w)&badQuantum != 0 {
			break
		}
		d := dst[n : n+14 : n+14]
		putQuanta(d, x, y)
		putQuanta(d[6:], z, w)
		i += 16
		n += 12
	}
	for len(src)-i >= 8 && len(dst)-n >= 8 {
		s := src[i : i+8 : i+8]
		x, y := quantum(s[0:4]), quantum(s[4:8])
		if (x|y)&badQuantum != 0 {
			break
		}
		putQuanta(dst[n:], x, y)
		i += 8
		n += 6
	}
	m, err := base64.StdEncoding.Decode(dst[n:], src[i:])
	return n + m, err
}

// quantum is the 24 bits of four characters, with badQuantum set if one is
// outside the alphabet.
func quantum(s []byte) uint32 {
	_ = s[3]
	return b64[0][s[0]] | b64[1][s[1]] | b64[2][s[2]] | b64[3][s[3]]
}

// putQuanta writes the six bytes of two quanta, and two zero bytes that the
// next quanta (or the standard library, which writes the same way)
// overwrite: d must have room for eight.
func putQuanta(d []byte, x, y uint32) {
	binary.BigEndian.PutUint64(d, uint64(x)<<40|uint64(y)<<16)
}
