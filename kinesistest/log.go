package kinesistest

import "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

const (
	chunkBits = 12
	chunkSize = 1 << chunkBits
	chunkMask = chunkSize - 1
)

// recordLog is a shard's records in chunks of chunkSize, so that appending
// never copies more than one chunk (a single slice would copy every record
// each time it doubled) and GetRecords copies out of at most a few chunks.
// The zero recordLog is empty. Its owner synchronizes access.
type recordLog struct {
	chunks [][]types.Record // all full but the last
	ends   [][]int64        // ends[c][k]: data bytes of records up to and including chunks[c][k]
	n      int
}

func (l *recordLog) len() int { return l.n }

func (l *recordLog) at(i int) *types.Record { return &l.chunks[i>>chunkBits][i&chunkMask] }

// bytesBefore returns the data bytes of records [0, i).
func (l *recordLog) bytesBefore(i int) int64 {
	if i == 0 {
		return 0
	}
	i--
	return l.ends[i>>chunkBits][i&chunkMask]
}

func (l *recordLog) append(r types.Record) {
	if l.n&chunkMask == 0 {
		// The first chunk grows from small, so idle shards stay cheap; later
		// chunks are allocated whole.
		c := 16
		if l.n > 0 {
			c = chunkSize
		}
		l.chunks = append(l.chunks, make([]types.Record, 0, c))
		l.ends = append(l.ends, make([]int64, 0, c))
	}
	end := l.bytesBefore(l.n) + int64(len(r.Data))
	last := len(l.chunks) - 1
	l.chunks[last] = append(l.chunks[last], r)
	l.ends[last] = append(l.ends[last], end)
	l.n++
}

// copyTo copies records [from, from+len(dst)) into dst.
func (l *recordLog) copyTo(dst []types.Record, from int) {
	for len(dst) > 0 {
		m := copy(dst, l.chunks[from>>chunkBits][from&chunkMask:])
		dst = dst[m:]
		from += m
	}
}
