package parallel_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/esmkit/esmkit/parallel"
)

// BenchmarkLane hashes keys of typical sizes: short, a UUID, and the
// longest ASCII key Kinesis accepts. n = 1 does not hash.
func BenchmarkLane(b *testing.B) {
	for _, size := range []int{8, 36, 256} {
		key := strings.Repeat("k", size)
		for _, n := range []int{1, 10} {
			b.Run(fmt.Sprintf("key=%d/n=%d", size, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					parallel.Lane(key, n)
				}
			})
		}
	}
}

// BenchmarkWatermark is the steady state of one shard: records are
// registered round-robin over the lanes, each lane finishes a batch when it
// holds batch records, and the checkpoint is read after every batch. One op
// is one record, so ns/op and allocs/op are per record.
func BenchmarkWatermark(b *testing.B) {
	for _, lanes := range []int{1, 4, 10} {
		for _, batch := range []int{1, 100} {
			b.Run(fmt.Sprintf("lanes=%d/batch=%d", lanes, batch), func(b *testing.B) {
				seqs := make([]string, 1024)
				for i := range seqs {
					seqs[i] = fmt.Sprintf("%056d", i) // as long as a real one
				}
				var w parallel.Watermark
				open := make([]int, lanes)
				i := 0
				b.ReportAllocs()
				for b.Loop() {
					l := i % lanes
					w.Register(l, seqs[i%len(seqs)])
					i++
					if open[l]++; open[l] == batch {
						w.Finish(l, batch)
						open[l] = 0
						w.Checkpoint()
					}
				}
			})
		}
	}
}

// BenchmarkWatermarkSlowLane has one lane finish only every 10,000 records
// while the others finish at once, so the window grows and the watermark
// then passes it in one Finish.
func BenchmarkWatermarkSlowLane(b *testing.B) {
	const lanes, hold = 4, 10000
	seqs := make([]string, 1024)
	for i := range seqs {
		seqs[i] = strconv.Itoa(i)
	}
	var w parallel.Watermark
	slow := 0
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		l := i % lanes
		w.Register(l, seqs[i%len(seqs)])
		i++
		if l != 0 {
			w.Finish(l, 1)
		} else if slow++; slow == hold/lanes {
			w.Finish(0, slow)
			slow = 0
			w.Checkpoint()
		}
	}
}
