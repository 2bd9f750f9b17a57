// Command esmkit is the esmkit contender: an esm.Mapping with a no-op
// handler over a real *kinesis.Client, every option at its default but
// those below (so GetRecords is decoded by kinesisfast).
//
// Throughput: StartingPosition TRIM_HORIZON, BatchSize 10000,
// ReadRateLimit(0), every other option at its default (PollInterval 1 s,
// ParallelizationFactor 1, in-memory checkpoints after every batch).
// Latency: the same with PollInterval -poll (200 ms) and the default
// ReadRateLimit of 5 calls/s per shard.
package main

import (
	"github.com/esmkit/esmkit/benchmarks/internal/esmkitrun"
	"github.com/esmkit/esmkit/benchmarks/internal/harness"
)

func main() { harness.Main("esmkit", esmkitrun.Start()) }
