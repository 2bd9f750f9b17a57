package kinesistest

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math"
	"math/big"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// This file holds the hand-written JSON of the server's hot path: the
// GetRecords response, which is almost all base64. encoding/json would
// reflect over every record and base64 each Data into a temporary; here
// Data is encoded straight into the response buffer.

// recordOverhead bounds the JSON around one record other than its Data,
// PartitionKey and SequenceNumber, so appendGetRecords grows its buffer once.
const recordOverhead = len(`{"SequenceNumber":"","ApproximateArrivalTimestamp":-9223372036854775.808,"Data":"","PartitionKey":"","EncryptionType":""},`)

// appendGetRecords appends out as the GetRecords response body.
func appendGetRecords(b []byte, out *kinesis.GetRecordsOutput) []byte {
	n := 128
	for i := range out.Records {
		r := &out.Records[i]
		// Partition keys rarely need escapes; allow a few, and let append
		// grow the buffer for keys that need more.
		n += recordOverhead + base64.StdEncoding.EncodedLen(len(r.Data)) +
			len(deref(r.SequenceNumber)) + len(deref(r.PartitionKey)) + 8 + len(r.EncryptionType)
	}
	b = slices.Grow(b, n)

	// Records of one PutRecords share an arrival time: encode it once.
	var tsBuf [32]byte
	ts, tsMillis := tsBuf[:0], int64(math.MinInt64)
	b = append(b, `{"Records":[`...)
	for i := range out.Records {
		r := &out.Records[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		if r.SequenceNumber != nil {
			b = append(b, `"SequenceNumber":`...)
			b = appendString(b, *r.SequenceNumber)
			b = append(b, ',')
		}
		if r.ApproximateArrivalTimestamp != nil {
			b = append(b, `"ApproximateArrivalTimestamp":`...)
			if ms := r.ApproximateArrivalTimestamp.UnixMilli(); ms != tsMillis {
				ts, tsMillis = appendEpoch(tsBuf[:0], *r.ApproximateArrivalTimestamp), ms
			}
			b = append(b, ts...)
			b = append(b, ',')
		}
		if r.PartitionKey != nil {
			b = append(b, `"PartitionKey":`...)
			b = appendString(b, *r.PartitionKey)
			b = append(b, ',')
		}
		if r.EncryptionType != "" {
			b = append(b, `"EncryptionType":`...)
			b = appendString(b, string(r.EncryptionType))
			b = append(b, ',')
		}
		b = append(b, `"Data":"`...)
		b = appendBase64(b, r.Data)
		b = append(b, `"}`...)
	}
	b = append(b, ']')
	if out.NextShardIterator != nil {
		b = append(b, `,"NextShardIterator":`...)
		b = appendString(b, *out.NextShardIterator)
	}
	if out.MillisBehindLatest != nil {
		b = append(b, `,"MillisBehindLatest":`...)
		b = strconv.AppendInt(b, *out.MillisBehindLatest, 10)
	}
	if out.ChildShards != nil {
		b = append(b, `,"ChildShards":`...)
		b = appendChildShards(b, out.ChildShards)
	}
	return append(b, '}')
}

func appendChildShards(b []byte, cs []types.ChildShard) []byte {
	b = append(b, '[')
	for i := range cs {
		c := &cs[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"ShardId":`...)
		b = appendString(b, deref(c.ShardId))
		b = append(b, `,"ParentShards":[`...)
		for j, p := range c.ParentShards {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendString(b, p)
		}
		b = append(b, ']')
		if c.HashKeyRange != nil {
			b = append(b, `,"HashKeyRange":{"StartingHashKey":`...)
			b = appendString(b, deref(c.HashKeyRange.StartingHashKey))
			b = append(b, `,"EndingHashKey":`...)
			b = appendString(b, deref(c.HashKeyRange.EndingHashKey))
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// as with encoding/json. Runs of plain ASCII, such as sequence numbers,
// are scanned eight bytes at a time.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) && plain8(load64(s[i:])) {
			i += 8
			continue
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// plain8 reports whether none of the 8 bytes in w needs escaping, that is
// none is non-ASCII, a control character, '"' or '\\', with the word-wide
// tests hasless and haszero of "Bit Twiddling Hacks", which are exact
// about whether such a byte exists.
func plain8(w uint64) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	hasZero := func(v uint64) uint64 { return (v - lo) & ^v & hi }
	return (w&hi)|((w-0x20*lo) & ^w & hi)|hasZero(w^('"'*lo))|hasZero(w^('\\'*lo)) == 0
}

// load64 reads s[0:8] little-endian; the compiler makes it one load.
func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// appendEpoch appends t as Kinesis writes timestamps: Unix seconds with a
// fraction of three digits, since Kinesis keeps milliseconds. t is
// truncated (towards the past) to the millisecond.
func appendEpoch(b []byte, t time.Time) []byte {
	ms := t.UnixMilli() // floor, also before 1970
	if ms < 0 {
		b = append(b, '-')
		ms = -ms // |math.MinInt64| ms lies far outside time.Time's range
	}
	b = strconv.AppendInt(b, ms/1000, 10)
	frac := ms % 1000
	return append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
}

// epochTime is a timestamp in a JSON request or response: a number of Unix
// seconds with an optional fraction.
type epochTime time.Time

func (t epochTime) MarshalJSON() ([]byte, error) { return appendEpoch(nil, time.Time(t)), nil }

// UnmarshalJSON reads a JSON number exactly (1.7e9 and 1700000000.123 both
// work, with no float rounding) to the nanosecond.
func (t *epochTime) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "" || s[0] == '"' || !isJSONNumber(s) {
		return errors.New("timestamp must be a number of epoch seconds, got " + s)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return errors.New("invalid timestamp " + s)
	}
	ns := r.Mul(r, big.NewRat(1e9, 1))
	q := new(big.Int).Quo(ns.Num(), ns.Denom()) // towards zero; sub-ns digits do not matter
	if !q.IsInt64() {
		return errors.New("timestamp out of range: " + s)
	}
	*t = epochTime(time.Unix(0, q.Int64()))
	return nil
}

func isJSONNumber(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9', c == '-', c == '+', c == '.', c == 'e', c == 'E':
		default:
			return false
		}
	}
	return true
}

// b64Pairs maps 12 bits to the two base64 characters that encode them,
// first character in the low byte, so one table load yields two output
// bytes and one 64-bit store writes eight.
var b64Pairs = func() (t [1 << 12]uint16) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := range t {
		t[i] = uint16(alphabet[i>>6]) | uint16(alphabet[i&63])<<8
	}
	return t
}()

// appendBase64 appends src in standard base64 with padding, the encoding
// of Kinesis's blobs, at about 2.5 times the speed of
// base64.StdEncoding.Encode: each step reads 12 bytes as two overlapping
// big-endian 64-bit loads (6 bytes used of each) and writes 16 characters
// with eight table lookups and two 64-bit stores.
func appendBase64(b, src []byte) []byte {
	n := base64.StdEncoding.EncodedLen(len(src))
	b = slices.Grow(b, n)
	dst := b[len(b) : len(b)+n]
	t := &b64Pairs
	// A load reads 2 bytes past the 6 it uses, so leave 2 spare.
	for len(src) >= 14 && len(dst) >= 16 {
		v := binary.BigEndian.Uint64(src[0:8])
		w := binary.BigEndian.Uint64(src[6:14])
		binary.LittleEndian.PutUint64(dst[0:8], uint64(t[v>>52])|uint64(t[v>>40&0xfff])<<16|uint64(t[v>>28&0xfff])<<32|uint64(t[v>>16&0xfff])<<48)
		binary.LittleEndian.PutUint64(dst[8:16], uint64(t[w>>52])|uint64(t[w>>40&0xfff])<<16|uint64(t[w>>28&0xfff])<<32|uint64(t[w>>16&0xfff])<<48)
		src, dst = src[12:], dst[16:]
	}
	base64.StdEncoding.Encode(dst, src)
	return b[:len(b)+n]
}
