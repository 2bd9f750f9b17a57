// Command harlow is the github.com/harlow/kinesis-consumer contender
// (v0.3.6, the newest version the module proxy serves here; it uses
// aws-sdk-go-v2). Its Scan calls the handler once per record and, with its
// default no-op store, "checkpoints" every record.
//
// Settings: WithShardIteratorType(TRIM_HORIZON), WithMaxRecords(10000),
// WithClient(the shared *kinesis.Client). Its ticker waits the scan
// interval between the starts of successive GetRecords calls of a shard,
// full page or not (default 250 ms): throughput runs set
// WithScanInterval(1 ms), which removes the wait as ReadRateLimit(0) does
// for esmkit; latency runs set it to -poll (200 ms).
package main

import (
	"context"
	"time"

	consumer "github.com/harlow/kinesis-consumer"

	"github.com/esmkit/esmkit/benchmarks/internal/harness"
)

func main() { harness.Main("harlow/kinesis-consumer", start) }

func start(ctx context.Context, cfg harness.Config, rec *harness.Recorder) error {
	interval := time.Millisecond
	if cfg.Latency {
		interval = cfg.Poll
	}
	c, err := consumer.New(cfg.Stream,
		consumer.WithClient(harness.NewClient(cfg.Endpoint)),
		consumer.WithShardIteratorType("TRIM_HORIZON"),
		consumer.WithMaxRecords(10000),
		consumer.WithScanInterval(interval),
	)
	if err != nil {
		return err
	}
	latency := rec.Latency()
	return c.Scan(ctx, func(r *consumer.Record) error {
		if latency {
			rec.Seen(time.Now(), r.Data)
		} else {
			rec.Add(1)
		}
		return nil
	})
}
