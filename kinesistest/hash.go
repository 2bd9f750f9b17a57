package kinesistest

import (
	"crypto/md5"
	"encoding/binary"
	"math/big"
	"math/bits"
)

// u128 is an unsigned 128-bit integer: a point in Kinesis's hash key space.
type u128 struct{ hi, lo uint64 }

var maxU128 = u128{^uint64(0), ^uint64(0)}

func (a u128) cmp(b u128) int {
	switch {
	case a.hi < b.hi:
		return -1
	case a.hi > b.hi:
		return 1
	case a.lo < b.lo:
		return -1
	case a.lo > b.lo:
		return 1
	}
	return 0
}

// add1 returns a+1; callers never pass maxU128.
func (a u128) add1() u128 {
	lo, c := bits.Add64(a.lo, 1, 0)
	return u128{a.hi + c, lo}
}

// sub1 returns a-1; callers never pass zero.
func (a u128) sub1() u128 {
	lo, b := bits.Sub64(a.lo, 1, 0)
	return u128{a.hi - b, lo}
}

func (a u128) big() *big.Int {
	b := new(big.Int).SetUint64(a.hi)
	b.Lsh(b, 64)
	return b.Or(b, new(big.Int).SetUint64(a.lo))
}

func fromBig(b *big.Int) u128 {
	lo := new(big.Int).And(b, new(big.Int).SetUint64(^uint64(0))).Uint64()
	hi := new(big.Int).Rsh(b, 64).Uint64()
	return u128{hi, lo}
}

// String returns a in decimal, as HashKeyRange and ExplicitHashKey spell it.
func (a u128) String() string { return a.big().String() }

// parseU128 parses a decimal string in [0, 2^128-1] without allocating,
// since PutRecords may parse an ExplicitHashKey per record.
func parseU128(s string) (u128, bool) {
	if s == "" || len(s) > 39 {
		return u128{}, false
	}
	var v u128
	for i := 0; i < len(s); i++ {
		d := s[i] - '0'
		if d > 9 {
			return u128{}, false
		}
		// v = v*10 + d, failing on overflow.
		h1, h0 := bits.Mul64(v.hi, 10)
		c, lo := bits.Mul64(v.lo, 10)
		hi, carry := bits.Add64(h0, c, 0)
		if h1 != 0 || carry != 0 {
			return u128{}, false
		}
		lo, carry = bits.Add64(lo, uint64(d), 0)
		hi, c2 := bits.Add64(hi, 0, carry)
		if c2 != 0 {
			return u128{}, false
		}
		v = u128{hi, lo}
	}
	return v, true
}

// hashKey maps a partition key to the hash key space as Kinesis does: the
// MD5 digest read as a big-endian unsigned 128-bit integer.
func hashKey(partitionKey string) u128 {
	sum := md5.Sum([]byte(partitionKey))
	return u128{binary.BigEndian.Uint64(sum[:8]), binary.BigEndian.Uint64(sum[8:])}
}

// evenRanges splits the hash key space into n contiguous ranges as
// CreateStream does: range i starts at i*floor(2^128/n), and the last range
// ends at 2^128-1.
func evenRanges(n int) [][2]u128 {
	space := new(big.Int).Lsh(big.NewInt(1), 128)
	size := new(big.Int).Div(space, big.NewInt(int64(n)))
	out := make([][2]u128, n)
	for i := range out {
		start := new(big.Int).Mul(size, big.NewInt(int64(i)))
		out[i][0] = fromBig(start)
		if i == n-1 {
			out[i][1] = maxU128
		} else {
			out[i][1] = fromBig(start.Add(start, size)).sub1()
		}
	}
	return out
}
