// Package uuid makes RFC 9562 UUIDs in their canonical text form.
package uuid

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
)

// New returns a random (version 4) UUID.
func New() string {
	var u [16]byte
	_, _ = rand.Read(u[:]) // never fails (crypto/rand, Go 1.24+)
	return format(u, 0x40)
}

// namespace is esmkit's name-based UUID namespace (itself a version 4 UUID).
var namespace = [16]byte{0x6f, 0x3a, 0x8e, 0x21, 0x4b, 0x1c, 0x4e, 0x0a, 0x9d, 0x55, 0x27, 0xc3, 0x01, 0xb8, 0x7e, 0x44}

// FromName returns the name-based (version 5, SHA-1) UUID of name in
// esmkit's namespace: the same name always gives the same UUID.
func FromName(name string) string {
	h := sha1.New()
	h.Write(namespace[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	return format(u, 0x50)
}

func format(u [16]byte, version byte) string {
	u[6] = u[6]&0x0f | version
	u[8] = u[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], u[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], u[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], u[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], u[8:10])
	s[23] = '-'
	hex.Encode(s[24:], u[10:])
	return string(s[:])
}
