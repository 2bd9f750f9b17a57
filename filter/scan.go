package filter

import (
	"encoding/binary"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds the nesting of a record's data, as encoding/json does;
// deeper data is treated as not JSON.
const maxDepth = 10000

// scanner validates a record's data as one JSON value and, in the same
// pass, hands the scalars at the paths the patterns name to Filter.leaf.
// Objects at other paths are validated and skipped without decoding;
// nothing is allocated. Arrays are transparent: their elements are found
// at the array's own path, which gives EventBridge's "any element matches".
type scanner struct {
	f    *Filter
	st   *state
	data []byte
	pos  int
}

// document reports whether data is exactly one valid JSON value with
// valid UTF-8 strings.
func (s *scanner) document() bool {
	if !s.value(0, 0) {
		return false
	}
	s.skipSpace()
	return s.pos == len(s.data)
}

func (s *scanner) skipSpace() {
	d, i := s.data, s.pos
	for i < len(d) && d[i] <= ' ' && (d[i] == ' ' || d[i] == '\n' || d[i] == '\t' || d[i] == '\r') {
		i++
	}
	s.pos = i
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// plain marks the bytes a string may hold without a closer look: printable
// ASCII other than '"' and '\\'.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// value scans one value at node n, or at no node of interest if n < 0.
func (s *scanner) value(n int32, depth int) bool {
	s.skipSpace()
	if s.pos >= len(s.data) {
		return false
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		return s.object(n, depth+1)
	case c == '[':
		return s.array(n, depth+1)
	case c == '"':
		start, end, escaped, ok := s.str()
		if !ok {
			return false
		}
		if n >= 0 {
			raw := s.data[start:end]
			if escaped {
				s.st.buf = unescape(s.st.buf[:0], raw)
				raw = s.st.buf
			}
			s.f.leaf(s.st, n, value{kind: kindString, raw: raw})
		}
		return true
	case c == '-' || '0' <= c && c <= '9':
		start := s.pos
		if !s.number() {
			return false
		}
		if n >= 0 {
			s.f.leaf(s.st, n, value{kind: kindNumber, raw: s.data[start:s.pos]})
		}
		return true
	case c == 't':
		return s.literal("true", n, kindTrue)
	case c == 'f':
		return s.literal("false", n, kindFalse)
	case c == 'n':
		return s.literal("null", n, kindNull)
	}
	return false
}

func (s *scanner) literal(lit string, n int32, kind valueKind) bool {
	if len(s.data)-s.pos < len(lit) || string(s.data[s.pos:s.pos+len(lit)]) != lit {
		return false
	}
	s.pos += len(lit)
	if n >= 0 {
		s.f.leaf(s.st, n, value{kind: kind})
	}
	return true
}

func (s *scanner) object(n int32, depth int) bool {
	if depth > maxDepth {
		return false
	}
	s.pos++ // '{'
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return true
	}
	var nd *node
	if n >= 0 && len(s.f.nodes[n].children) > 0 {
		nd = &s.f.nodes[n]
	}
	for {
		s.skipSpace()
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return false
		}
		start, end, escaped, ok := s.str()
		if !ok {
			return false
		}
		child := int32(-1)
		if nd != nil {
			key := s.data[start:end]
			if escaped {
				s.st.buf = unescape(s.st.buf[:0], key)
				key = s.st.buf
			}
			child = nd.lookup(key)
		}
		s.skipSpace()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return false
		}
		s.pos++
		if !s.value(child, depth) {
			return false
		}
		s.skipSpace()
		if s.pos >= len(s.data) {
			return false
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return true
		default:
			return false
		}
	}
}

func (s *scanner) array(n int32, depth int) bool {
	if depth > maxDepth {
		return false
	}
	s.pos++ // '['
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		return true
	}
	for {
		if !s.value(n, depth) {
			return false
		}
		s.skipSpace()
		if s.pos >= len(s.data) {
			return false
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return true
		default:
			return false
		}
	}
}

// str scans a string starting at its opening quote and returns the bounds
// of its contents and whether it has escapes. It rejects control
// characters, bad escapes and invalid UTF-8.
func (s *scanner) str() (start, end int, escaped, ok bool) {
	s.pos++ // '"'
	start = s.pos
	d := s.data
	for i := s.pos; i < len(d); {
		// Skip eight plain bytes at a time: x has no byte < 0x20, none
		// >= 0x80, and no '"' or '\\' (the "has zero byte" bit trick).
		for i+8 <= len(d) {
			x := binary.LittleEndian.Uint64(d[i:])
			q, b := x^(ones*'"'), x^(ones*'\\')
			if ((x-ones*0x20)&^x|(q-ones)&^q|(b-ones)&^b|x)&highs != 0 {
				break
			}
			i += 8
		}
		for i < len(d) && plain[d[i]] {
			i++
		}
		if i == len(d) {
			break
		}
		c := d[i]
		switch {
		case c == '"':
			s.pos = i + 1
			return start, i, escaped, true
		case c == '\\':
			escaped = true
			if i+1 >= len(d) {
				return 0, 0, false, false
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(d) {
					return 0, 0, false, false
				}
				for _, h := range d[i+2 : i+6] {
					if hexVal(h) < 0 {
						return 0, 0, false, false
					}
				}
				i += 6
			default:
				return 0, 0, false, false
			}
		case c < 0x20:
			return 0, 0, false, false
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && size == 1 {
				return 0, 0, false, false
			}
			i += size
		}
	}
	return 0, 0, false, false
}

func hexVal(c byte) rune {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0')
	case 'a' <= c && c <= 'f':
		return rune(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

// number scans a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() bool {
	d, i := s.data, s.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && '1' <= d[i] && d[i] <= '9':
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return false
		}
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return false
		}
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
		}
	}
	s.pos = i
	return true
}

// unescape appends the decoded form of a string's contents, already checked
// by str, to dst. Unpaired surrogates become U+FFFD, as in encoding/json.
func unescape(dst, src []byte) []byte {
	for i := 0; i < len(src); {
		c := src[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		switch src[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(src[i+2:])
			i += 6
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+6 <= len(src) && src[i] == '\\' && src[i+1] == 'u' {
					r2 = hex4(src[i+2:])
				}
				if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
					r = d
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, src[i+1])
		}
		i += 2
	}
	return dst
}

func hex4(b []byte) rune {
	return hexVal(b[0])<<12 | hexVal(b[1])<<8 | hexVal(b[2])<<4 | hexVal(b[3])
}
