// Package seqnum compares Kinesis sequence numbers.
//
// Sequence numbers are decimal strings of up to 128 digits, so they are
// compared by length and then lexically rather than parsed.
package seqnum

import "strings"

// Compare returns -1, 0 or +1 as a is less than, equal to or greater than b.
// Leading zeros are ignored. The empty string sorts before every number.
func Compare(a, b string) int {
	a = strings.TrimLeft(a, "0")
	b = strings.TrimLeft(b, "0")
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return strings.Compare(a, b)
}

// Less reports whether a sorts before b.
func Less(a, b string) bool { return Compare(a, b) < 0 }

// Valid reports whether s is a non-empty string of decimal digits.
func Valid(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
