package batcher_test

import (
	"fmt"
	"time"

	"github.com/esmkit/esmkit/batcher"
)

// Batch strings as a JSON array: the envelope is "[]" and items are joined by
// commas. The loop that owns the Batcher passes the time to every call.
func ExampleBatcher() {
	b, err := batcher.New(
		batcher.Limits{Count: 3, Bytes: 20, Window: time.Second},
		batcher.Size[string]{
			Item:      func(s *string) int { return len(*s) + 2 }, // quoted
			Envelope:  len("[]"),
			Separator: len(","),
		},
	)
	if err != nil {
		panic(err)
	}
	now := time.Unix(0, 0)

	b.Add(now, "a", "b")
	fmt.Println("ready:", b.Ready(now)) // 2 of 3, window open
	deadline, _ := b.Deadline()
	fmt.Println("deadline in:", deadline.Sub(now))

	b.Add(now, "too-big-for-20-bytes", "c", "d", "e", "f")
	for b.Ready(now) {
		fmt.Println(b.Take(now)) // full by bytes, alone, then by count
	}
	fmt.Println("pending:", b.Len())

	now = now.Add(time.Second) // the leftover's window elapses
	fmt.Println("ready:", b.Ready(now), b.Take(now))
	// Output:
	// ready: false
	// deadline in: 1s
	// [a b]
	// [too-big-for-20-bytes]
	// [c d e]
	// pending: 1
	// ready: true [f]
}
