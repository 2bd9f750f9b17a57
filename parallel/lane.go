package parallel

import (
	"crypto/md5"
	"encoding/binary"
	"math/bits"
)

// keyBuf is the longest partition key, in bytes, that [Lane] hashes without
// allocating: Kinesis allows 256 Unicode characters, at most 4 bytes each in
// UTF-8.
const keyBuf = 256 * 4

// Lane returns the lane of a record with the given partition key among n
// lanes: the MD5 digest of the key's bytes, read as a 128-bit big-endian
// integer (the hash Kinesis routes records to shards by), modulo n. The same
// key always gets the same lane for the same n, on every machine and in
// every version, so a key's records stay in order on one lane. With n == 1
// it returns 0 without hashing.
//
// Lane does not allocate for keys of up to 1024 bytes, which covers every
// key Kinesis accepts. It is safe for concurrent use. It panics if n < 1.
func Lane(partitionKey string, n int) int {
	if n == 1 {
		return 0
	}
	if n < 1 {
		panic("parallel: Lane with n < 1")
	}
	// md5.Sum does not retain its argument, so the copy stays on the stack;
	// []byte(partitionKey) would be copied to the heap beyond 32 bytes.
	var buf [keyBuf]byte
	sum := md5.Sum(append(buf[:0], partitionKey...))
	hi := binary.BigEndian.Uint64(sum[:8])
	lo := binary.BigEndian.Uint64(sum[8:])
	// Rem64 reduces hi first, so the 128-bit quotient may overflow safely.
	return int(bits.Rem64(hi, lo, uint64(n)))
}
