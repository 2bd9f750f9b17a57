package otelesm_test

import (
	"context"
	"fmt"
	"log"

	"github.com/aws/aws-lambda-go/events"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/esmkit/esmkit/esm"
	"github.com/esmkit/esmkit/kinesistest"
	"github.com/esmkit/esmkit/otelesm"
)

func Example() {
	// In production: a MeterProvider with an OTLP or Prometheus exporter.
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer provider.Shutdown(context.Background())

	hook, err := otelesm.New(provider, otelesm.MappingName("orders"))
	if err != nil {
		log.Fatal(err)
	}
	defer hook.Close()

	kc := kinesistest.New()
	arn, _ := kc.AddStream("orders", 1)
	for _, id := range []string{"1", "2", "3"} {
		kc.Put(context.Background(), "orders", "customer-"+id, []byte(`{"order":`+id+`}`))
	}
	ctx, stop := context.WithCancel(context.Background())
	handler := func(ctx context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
		stop() // one batch is enough for the example
		return events.KinesisEventResponse{}, nil
	}
	m, err := esm.New(kc, arn, handler, esm.StartingPosition(esm.TrimHorizon), esm.Hooks(hook))
	if err != nil {
		log.Fatal(err)
	}
	if err := m.Run(ctx); err != nil {
		log.Fatal(err)
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		log.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, mt := range sm.Metrics {
			switch mt.Name {
			case "esm.PolledEventCount", "esm.Invocations":
				p := mt.Data.(metricdata.Sum[int64]).DataPoints[0]
				name, _ := p.Attributes.Value(otelesm.MappingNameKey)
				fmt.Printf("%s{%s} %d\n", mt.Name, name.AsString(), p.Value)
			}
		}
	}
	// Output:
	// esm.PolledEventCount{orders} 3
	// esm.Invocations{orders} 1
}
