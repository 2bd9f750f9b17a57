// Command esmkit is the esmkit contender: an esm.Mapping with a no-op
// handler over a real *kinesis.Client (the SDK's standard decoder).
//
// Throughput: StartingPosition TRIM_HORIZON, BatchSize 10000,
// ReadRateLimit(0), every other option at its default (PollInterval 1 s,
// ParallelizationFactor 1, in-memory checkpoints after every batch).
// Latency: the same with PollInterval -poll (200 ms) and the default
// ReadRateLimit of 5 calls/s per shard.
package main

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/esmkit/esmkit/benchmarks/internal/harness"
	"github.com/esmkit/esmkit/esm"
)

func main() { harness.Main("esmkit", start) }

func start(ctx context.Context, cfg harness.Config, rec *harness.Recorder) error {
	client := harness.NewClient(cfg.Endpoint)
	return run(ctx, client, cfg, rec)
}

func run(ctx context.Context, client esm.KinesisClient, cfg harness.Config, rec *harness.Recorder) error {
	h := func(_ context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
		if rec.Latency() {
			now := time.Now()
			for i := range ev.Records {
				rec.Seen(now, ev.Records[i].Kinesis.Data)
			}
		} else {
			rec.Add(len(ev.Records))
		}
		return events.KinesisEventResponse{}, nil
	}
	opts := []esm.Option{esm.StartingPosition(esm.TrimHorizon), esm.BatchSize(10000)}
	if cfg.Latency {
		opts = append(opts, esm.PollInterval(cfg.Poll))
	} else {
		opts = append(opts, esm.ReadRateLimit(0))
	}
	m, err := esm.New(client, cfg.StreamARN, h, opts...)
	if err != nil {
		return err
	}
	return m.Run(ctx)
}
