package esm_test

import (
	"context"
	"fmt"
	"log"

	"github.com/aws/aws-lambda-go/events"

	"github.com/esmkit/esmkit/esm"
	"github.com/esmkit/esmkit/kinesistest"
)

func ExampleMapping() {
	kc := kinesistest.New() // in production: kinesis.NewFromConfig(cfg)
	arn, _ := kc.AddStream("orders", 1)
	for _, id := range []string{"1", "2", "3"} {
		kc.Put(context.Background(), "orders", "customer-"+id, []byte(`{"order":`+id+`}`))
	}

	ctx, stop := context.WithCancel(context.Background())
	handler := func(ctx context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
		for _, r := range ev.Records {
			fmt.Printf("%s %s\n", r.Kinesis.PartitionKey, r.Kinesis.Data)
		}
		stop() // one batch is enough for the example
		return events.KinesisEventResponse{}, nil
	}
	m, err := esm.New(kc, arn, handler,
		esm.StartingPosition(esm.TrimHorizon),
		esm.BatchSize(500),
	)
	if err != nil {
		log.Fatal(err)
	}
	if err := m.Run(ctx); err != nil { // blocks; nil after a clean stop
		log.Fatal(err)
	}
	// Output:
	// customer-1 {"order":1}
	// customer-2 {"order":2}
	// customer-3 {"order":3}
}

func ExampleErrorHandler() {
	h := esm.ErrorHandler(func(ctx context.Context, ev events.KinesisEvent) error {
		fmt.Println(len(ev.Records), "records")
		return nil
	})
	_, err := h(context.Background(), events.KinesisEvent{Records: make([]events.KinesisEventRecord, 2)})
	fmt.Println(err)
	// Output:
	// 2 records
	// <nil>
}
