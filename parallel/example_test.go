package parallel_test

import (
	"fmt"

	"github.com/esmkit/esmkit/parallel"
)

// Every record of a key goes to the same lane, so a lane that runs one
// batch at a time keeps each key's records in order.
func ExampleLane() {
	for _, key := range []string{"alice", "bob", "erin", "alice"} {
		fmt.Println(key, parallel.Lane(key, 3))
	}
	// Output:
	// alice 1
	// bob 2
	// erin 0
	// alice 1
}

// Two lanes finish out of shard order; the checkpoint only moves past
// records that are finished with everything before them. The reader
// registers records in shard order, each lane finishes its own, and a third
// goroutine would save the checkpoint.
func ExampleWatermark() {
	var w parallel.Watermark
	show := func() {
		seq, moved := w.Checkpoint()
		fmt.Printf("checkpoint %q moved=%v pending=%d\n", seq, moved, w.Pending())
	}
	w.Register(0, "101") // key a, lane 0
	w.Register(1, "102") // key b, lane 1
	w.Skip("103")        // filtered out
	w.Register(1, "104") // key b, lane 1

	w.Finish(1, 2) // lane 1's batch of 102 and 104 succeeds
	show()

	// Lane 0 fails and retries; lane 1 goes on.
	w.Register(1, "105")
	w.Finish(1, 1)
	show()

	w.Finish(0, 1) // lane 0's retry succeeds
	show()
	// Output:
	// checkpoint "" moved=false pending=4
	// checkpoint "" moved=false pending=5
	// checkpoint "105" moved=true pending=0
}
