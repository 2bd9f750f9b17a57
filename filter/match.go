package filter

import (
	"bytes"
	"net/netip"
	"strconv"
	"unicode"
	"unicode/utf8"
)

type valueKind uint8

const (
	kindString valueKind = iota
	kindNumber
	kindTrue
	kindFalse
	kindNull
)

// value is one scalar found in a record. raw is a string's unescaped bytes
// or a number's JSON text; it is valid only while the value is tested.
type value struct {
	kind  valueKind
	raw   []byte
	numOK bool  // num holds the quantized number
	num   int64 // see quantize
}

func (v *value) parseNumber() {
	if v.kind != kindNumber {
		return
	}
	f, err := strconv.ParseFloat(string(v.raw), 64)
	if err == nil {
		v.num, v.numOK = quantize(f)
	}
}

type matcherKind uint8

const (
	mExactString matcherKind = iota // s, exact bytes
	mExactNumber                    // s, the number's JSON text
	mExactTrue
	mExactFalse
	mExactNull
	mPrefix
	mPrefixFold
	mSuffix
	mSuffixFold
	mEqualsFold
	mWildcard // wild[0]
	mCIDR
	mNumeric
	mAnythingButStrings
	mAnythingButNumbers
	mAnythingButPrefix
	mAnythingButSuffix
	mAnythingButFold
	mAnythingButWildcard
)

// matcher is one value or operator of a pattern array.
type matcher struct {
	kind   matcherKind
	s      string
	b      []byte // s as bytes
	strs   []string
	nums   []int64
	wild   []wildcard
	prefix netip.Prefix

	lo, hi         int64
	hasLo, hasHi   bool
	loOpen, hiOpen bool
}

func (m *matcher) match(v *value) bool {
	switch m.kind {
	case mExactString:
		return v.kind == kindString && string(v.raw) == m.s
	case mExactNumber:
		// Numbers match by their text: 300 is not 300.0 (Lambda and
		// EventBridge docs).
		return v.kind == kindNumber && string(v.raw) == m.s
	case mExactTrue:
		return v.kind == kindTrue
	case mExactFalse:
		return v.kind == kindFalse
	case mExactNull:
		return v.kind == kindNull
	case mPrefix:
		return v.kind == kindString && bytes.HasPrefix(v.raw, m.b)
	case mSuffix:
		return v.kind == kindString && bytes.HasSuffix(v.raw, m.b)
	case mPrefixFold:
		return v.kind == kindString && hasPrefixFold(v.raw, m.s)
	case mSuffixFold:
		return v.kind == kindString && hasSuffixFold(v.raw, m.s)
	case mEqualsFold:
		return v.kind == kindString && bytes.EqualFold(v.raw, m.b)
	case mWildcard:
		return v.kind == kindString && m.wild[0].match(v.raw)
	case mCIDR:
		if v.kind != kindString {
			return false
		}
		a, ok := parseAddr(v.raw)
		return ok && m.prefix.Contains(a)
	case mNumeric:
		if !v.numOK {
			return false
		}
		if m.hasLo && (v.num < m.lo || m.loOpen && v.num == m.lo) {
			return false
		}
		if m.hasHi && (v.num > m.hi || m.hiOpen && v.num == m.hi) {
			return false
		}
		return true
	case mAnythingButStrings:
		if v.kind != kindString {
			return true
		}
		for _, s := range m.strs {
			if string(v.raw) == s {
				return false
			}
		}
		return true
	case mAnythingButNumbers:
		if !v.numOK {
			return true
		}
		for _, n := range m.nums {
			if v.num == n {
				return false
			}
		}
		return true
	case mAnythingButPrefix:
		if v.kind != kindString {
			return true
		}
		for _, s := range m.strs {
			if len(v.raw) >= len(s) && string(v.raw[:len(s)]) == s {
				return false
			}
		}
		return true
	case mAnythingButSuffix:
		if v.kind != kindString {
			return true
		}
		for _, s := range m.strs {
			if len(v.raw) >= len(s) && string(v.raw[len(v.raw)-len(s):]) == s {
				return false
			}
		}
		return true
	case mAnythingButFold:
		if v.kind != kindString {
			return true
		}
		for _, s := range m.strs {
			if equalFold(v.raw, s) {
				return false
			}
		}
		return true
	case mAnythingButWildcard:
		if v.kind != kindString {
			return true
		}
		for i := range m.wild {
			if m.wild[i].match(v.raw) {
				return false
			}
		}
		return true
	}
	return false
}

// wildcard is a pattern split at its unescaped '*'s: parts[0] must start
// the value, the last part must end it and the others must appear in order
// between them. Matching takes O(len(value) * len(pattern)) at worst: each
// middle part is searched once, leftmost, which is optimal because '*' is
// the only metacharacter.
type wildcard struct {
	parts []string
}

func (w *wildcard) match(s []byte) bool {
	if len(w.parts) == 1 {
		return string(s) == w.parts[0]
	}
	first, last := w.parts[0], w.parts[len(w.parts)-1]
	if len(s) < len(first)+len(last) ||
		string(s[:len(first)]) != first || string(s[len(s)-len(last):]) != last {
		return false
	}
	s = s[len(first) : len(s)-len(last)]
	for _, p := range w.parts[1 : len(w.parts)-1] {
		i := indexString(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return true
}

// indexString is bytes.Index(s, []byte(sep)) without the conversion.
func indexString(s []byte, sep string) int {
	if sep == "" {
		return 0
	}
	for i := 0; ; {
		j := bytes.IndexByte(s[i:], sep[0])
		if j < 0 {
			return -1
		}
		i += j
		if len(s)-i < len(sep) {
			return -1
		}
		if string(s[i:i+len(sep)]) == sep {
			return i
		}
		i++
	}
}

// Case folding follows strings.EqualFold: Unicode simple folding.

func equalFoldRune(a, b rune) bool {
	if a == b {
		return true
	}
	if a < utf8.RuneSelf && b < utf8.RuneSelf {
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		return a == b
	}
	for r := unicode.SimpleFold(a); r != a; r = unicode.SimpleFold(r) {
		if r == b {
			return true
		}
	}
	return false
}

func equalFold(s []byte, t string) bool {
	for len(t) > 0 {
		if len(s) == 0 {
			return false
		}
		sr, sn := utf8.DecodeRune(s)
		tr, tn := utf8.DecodeRuneInString(t)
		if !equalFoldRune(sr, tr) {
			return false
		}
		s, t = s[sn:], t[tn:]
	}
	return len(s) == 0
}

func hasPrefixFold(s []byte, prefix string) bool {
	for len(prefix) > 0 {
		if len(s) == 0 {
			return false
		}
		sr, sn := utf8.DecodeRune(s)
		pr, pn := utf8.DecodeRuneInString(prefix)
		if !equalFoldRune(sr, pr) {
			return false
		}
		s, prefix = s[sn:], prefix[pn:]
	}
	return true
}

func hasSuffixFold(s []byte, suffix string) bool {
	for len(suffix) > 0 {
		if len(s) == 0 {
			return false
		}
		sr, sn := utf8.DecodeLastRune(s)
		pr, pn := utf8.DecodeLastRuneInString(suffix)
		if !equalFoldRune(sr, pr) {
			return false
		}
		s, suffix = s[:len(s)-sn], suffix[:len(suffix)-pn]
	}
	return true
}

// parseAddr parses an IP address; dotted IPv4 without allocating.
func parseAddr(b []byte) (netip.Addr, bool) {
	if bytes.IndexByte(b, ':') >= 0 {
		a, err := netip.ParseAddr(string(b))
		return a, err == nil
	}
	var ip [4]byte
	n, digits, val := 0, 0, 0
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			if digits > 0 && val == 0 { // leading zero, as netip rejects
				return netip.Addr{}, false
			}
			val = val*10 + int(c-'0')
			digits++
			if val > 255 {
				return netip.Addr{}, false
			}
		case c == '.' && digits > 0 && n < 3:
			ip[n] = byte(val)
			n, digits, val = n+1, 0, 0
		default:
			return netip.Addr{}, false
		}
	}
	if n != 3 || digits == 0 {
		return netip.Addr{}, false
	}
	ip[3] = byte(val)
	return netip.AddrFrom4(ip), true
}
