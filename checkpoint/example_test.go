package checkpoint_test

import (
	"context"
	"fmt"
	"log"

	"github.com/esmkit/esmkit/checkpoint"
	"github.com/esmkit/esmkit/checkpoint/memcheckpoint"
)

func Example() {
	ctx := context.Background()
	st, err := checkpoint.New(memcheckpoint.New())
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	key := checkpoint.Key{Mapping: "orders-to-billing", ShardID: "shardId-000000000000"}
	if _, found, _ := st.Load(ctx, key); !found {
		fmt.Println("new shard: start at TRIM_HORIZON")
	}

	// After each finished batch, save its last sequence number. A late Save
	// of an earlier batch does not move the checkpoint back.
	for _, sn := range []string{"49590338271490256608559692538361571095921575989136588800", "49590338271490256608559692538361571095921575989136588900", "49590338271490256608559692538361571095921575989136588850"} {
		if err := st.Save(ctx, key, checkpoint.Checkpoint{SequenceNumber: sn}); err != nil {
			log.Fatal(err)
		}
	}
	// The shard was read to its end: its children may start.
	last := "49590338271490256608559692538361571095921575989136588900"
	if err := st.Save(ctx, key, checkpoint.Checkpoint{SequenceNumber: last, ShardEnded: true}); err != nil {
		log.Fatal(err)
	}

	cp, found, err := st.Load(ctx, key)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(found, cp.SequenceNumber, cp.ShardEnded)
	// Output:
	// new shard: start at TRIM_HORIZON
	// true 49590338271490256608559692538361571095921575989136588900 true
}
