package lambdainvoke_test

import (
	"context"
	"fmt"
	"log"

	"github.com/aws/aws-lambda-go/events"
	lambdago "github.com/aws/aws-lambda-go/lambda"

	"github.com/esmkit/esmkit/esm"
	"github.com/esmkit/esmkit/kinesistest"
	"github.com/esmkit/esmkit/lambdainvoke"
	"github.com/esmkit/esmkit/lambdainvoke/lambdainvoketest"
)

func ExampleHandler() {
	// A function deployed to a local Invoke API; in production the client
	// is lambda.NewFromConfig(cfg) and the function is already deployed.
	srv := lambdainvoketest.NewServer()
	defer srv.Close()
	ctx, stop := context.WithCancel(context.Background())
	srv.AddFunction("orders", lambdago.NewHandler(func(_ context.Context, ev events.KinesisEvent) error {
		for _, r := range ev.Records {
			fmt.Printf("%s %s\n", r.Kinesis.PartitionKey, r.Kinesis.Data)
		}
		stop() // one batch is enough for the example
		return nil
	}))
	h, err := lambdainvoke.Handler(srv.Client(), "orders")
	if err != nil {
		log.Fatal(err)
	}

	kc := kinesistest.New() // in production: kinesis.NewFromConfig(cfg)
	arn, _ := kc.AddStream("orders", 1)
	for _, id := range []string{"1", "2", "3"} {
		kc.Put(context.Background(), "orders", "customer-"+id, []byte(`{"order":`+id+`}`))
	}
	m, err := esm.New(kc, arn, h,
		esm.StartingPosition(esm.TrimHorizon),
		esm.FunctionResponseTypes(esm.ReportBatchItemFailuresType))
	if err != nil {
		log.Fatal(err)
	}
	if err := m.Run(ctx); err != nil {
		log.Fatal(err)
	}
	// Output:
	// customer-1 {"order":1}
	// customer-2 {"order":2}
	// customer-3 {"order":3}
}
