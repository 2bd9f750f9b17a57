// Command filtering shows Lambda event filtering: of a stream carrying
// orders, refunds and heartbeats, only {"type":"order"} records reach the
// handler; the rest are finished without an invocation. No AWS account or
// server needed.
package main

import (
	"context"
	"fmt"
	"log"
	"sync/atomic"

	"github.com/aws/aws-lambda-go/events"

	"github.com/esmkit/esmkit/esm"
	"github.com/esmkit/esmkit/kinesistest"
)

func main() {
	kc := kinesistest.New()
	arn, err := kc.AddStream("events", 2)
	if err != nil {
		log.Fatal(err)
	}
	kinds := []string{"order", "refund", "heartbeat", "order"}
	const total = 1000
	for i := range total {
		data := fmt.Sprintf(`{"type":%q,"id":%d}`, kinds[i%len(kinds)], i)
		if _, _, err := kc.Put(context.Background(), "events", fmt.Sprint("key-", i%10), []byte(data)); err != nil {
			log.Fatal(err)
		}
	}
	wantOrders := int64(total / 2)

	ctx, stop := context.WithCancel(context.Background())
	var orders, batches atomic.Int64
	handler := func(ctx context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
		batches.Add(1)
		if orders.Add(int64(len(ev.Records))) == wantOrders {
			stop()
		}
		return events.KinesisEventResponse{}, nil
	}
	m, err := esm.New(kc, arn, handler,
		esm.StartingPosition(esm.TrimHorizon),
		esm.FilterCriteria(`{"data":{"type":["order"]}}`),
	)
	if err != nil {
		log.Fatal(err)
	}
	if err := m.Run(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d records written, %d orders delivered in %d batches, %d filtered out\n",
		total, orders.Load(), batches.Load(), total-orders.Load())
}
