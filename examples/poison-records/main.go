// Command poison-records shows Lambda's failure handling isolating one bad
// record: with BisectBatchOnFunctionError the failing batch is split until
// the poison record is alone, it is retried MaximumRetryAttempts times, then
// its on-failure record goes to a destination (here a Go func; in
// production SQS, SNS or S3) while every other record is processed once, in
// order. No AWS account or server needed.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"sync"

	"github.com/aws/aws-lambda-go/events"

	"github.com/esmkit/esmkit/destination"
	"github.com/esmkit/esmkit/esm"
	"github.com/esmkit/esmkit/kinesistest"
)

func main() {
	kc := kinesistest.New()
	arn, err := kc.AddStream("payments", 1)
	if err != nil {
		log.Fatal(err)
	}
	const total = 16
	for i := 1; i <= total; i++ {
		data := fmt.Sprintf(`{"payment":%d}`, i)
		if i == 11 {
			data = `{"payment":` // the poison record: not valid JSON
		}
		if _, _, err := kc.Put(context.Background(), "payments", "merchant-1", []byte(data)); err != nil {
			log.Fatal(err)
		}
	}

	ctx, stop := context.WithCancel(context.Background())
	var mu sync.Mutex
	processed := 0
	handler := func(ctx context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
		var ids []string
		for _, r := range ev.Records {
			if !strings.HasSuffix(string(r.Kinesis.Data), "}") {
				fmt.Printf("invoke %2d records: fails on %s\n", len(ev.Records), r.Kinesis.Data)
				return events.KinesisEventResponse{}, errors.New("cannot parse payment")
			}
			ids = append(ids, strings.TrimSuffix(strings.TrimPrefix(string(r.Kinesis.Data), `{"payment":`), "}"))
		}
		fmt.Printf("invoke %2d records: ok %s\n", len(ev.Records), strings.Join(ids, " "))
		mu.Lock()
		defer mu.Unlock()
		if processed += len(ev.Records); processed == total-1 {
			stop()
		}
		return events.KinesisEventResponse{}, nil
	}

	dlq, err := destination.New(destination.Func(func(_ context.Context, inv *destination.Invocation) error {
		doc, err := destination.MarshalRecord(inv)
		if err != nil {
			return err
		}
		fmt.Printf("on-failure record: %s\n", doc)
		return nil
	}))
	if err != nil {
		log.Fatal(err)
	}
	m, err := esm.New(kc, arn, handler,
		esm.StartingPosition(esm.TrimHorizon),
		esm.BatchSize(total),
		esm.BisectBatchOnFunctionError(true),
		esm.MaximumRetryAttempts(1),
		esm.OnFailure(dlq),
		esm.FunctionARN("arn:aws:lambda:us-east-1:123456789012:function:payments"),
	)
	if err != nil {
		log.Fatal(err)
	}
	if err := m.Run(ctx); err != nil {
		log.Fatal(err)
	}
	st := m.Stats()
	fmt.Printf("%d records processed, %d sent to the on-failure destination, %d invocations (%d failed)\n",
		processed, st.OnFailureDestinationDeliveredEventCount, st.Invocations, st.Errors)
}
