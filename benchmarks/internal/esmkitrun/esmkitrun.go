// Package esmkitrun runs an esm.Mapping as a benchmark contender; the
// esmkit and esmkit-sdk contenders differ only in their extra options.
package esmkitrun

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/esmkit/esmkit/benchmarks/internal/harness"
	"github.com/esmkit/esmkit/esm"
)

// Start returns a harness start function running a mapping with a no-op
// handler: TRIM_HORIZON, BatchSize 10000 and ReadRateLimit(0) for
// throughput; PollInterval cfg.Poll and the default ReadRateLimit of 5 for
// latency; extra options last.
func Start(extra ...esm.Option) func(context.Context, harness.Config, *harness.Recorder) error {
	return func(ctx context.Context, cfg harness.Config, rec *harness.Recorder) error {
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
		m, err := esm.New(harness.NewClient(cfg.Endpoint), cfg.StreamARN, h, append(opts, extra...)...)
		if err != nil {
			return err
		}
		return m.Run(ctx)
	}
}
