// Command kcl is the github.com/vmware/vmware-go-kcl-v2 contender (v1.0.0,
// the newest version the module proxy serves here), a Go port of AWS's
// KCL 1.x polling consumer.
//
// Its only checkpointer keeps leases in DynamoDB; Worker.WithCheckpointer
// takes any other, so this contender uses memCheckpointer below (one
// worker, every lease granted, checkpoints in a map) instead of starting a
// DynamoDB-compatible server. The record processor counts the records and
// checkpoints the last sequence number of every batch, as esmkit does.
//
// Settings: TRIM_HORIZON, MaxRecords 10000, the shared *kinesis.Client
// (WithKinesis), a discarding logger, no metrics. ShardSyncIntervalMillis
// 10 (default 60 s): the worker takes one new lease per shard-sync loop, so
// the default would take 64 minutes to start 64 shards; 10 ms lists shards
// 100 times a second. IdleTimeBetweenReadsInMillis -poll (200 ms; default
// 1 s), the wait after an empty page.
//
// Not configurable: the polling consumer enforces AWS's per-shard limits
// on the client side (5 GetRecords calls/s, 2 MB/s after a 10 MB burst;
// constants in worker/polling-shard-consumer.go), so against an
// unthrottled endpoint its throughput is capped by design.
package main

import (
	"context"
	"sync"
	"time"

	"github.com/vmware/vmware-go-kcl-v2/clientlibrary/checkpoint"
	"github.com/vmware/vmware-go-kcl-v2/clientlibrary/config"
	"github.com/vmware/vmware-go-kcl-v2/clientlibrary/interfaces"
	"github.com/vmware/vmware-go-kcl-v2/clientlibrary/partition"
	"github.com/vmware/vmware-go-kcl-v2/clientlibrary/worker"
	"github.com/vmware/vmware-go-kcl-v2/logger"

	"github.com/esmkit/esmkit/benchmarks/internal/harness"
)

func main() { harness.Main("vmware-go-kcl-v2", start) }

func start(_ context.Context, cfg harness.Config, rec *harness.Recorder) error {
	kcfg := config.NewKinesisClientLibConfig("esmkit-bench", cfg.Stream, "us-east-1", "bench-worker").
		WithInitialPositionInStream(config.TRIM_HORIZON).
		WithMaxRecords(10000).
		WithShardSyncIntervalMillis(10).
		WithIdleTimeBetweenReadsInMillis(int(cfg.Poll / time.Millisecond)).
		WithLogger(discard{})
	w := worker.NewWorker(factory{rec}, kcfg).
		WithKinesis(harness.NewClient(cfg.Endpoint)).
		WithCheckpointer(&memCheckpointer{checkpoints: make(map[string]string)})
	// Start returns once the worker's goroutines run; the process exits
	// when the harness has its result, so Shutdown is never called.
	return w.Start()
}

type factory struct{ rec *harness.Recorder }

func (f factory) CreateProcessor() interfaces.IRecordProcessor { return processor(f) }

type processor struct{ rec *harness.Recorder }

func (processor) Initialize(*interfaces.InitializationInput) {}

func (p processor) ProcessRecords(in *interfaces.ProcessRecordsInput) {
	if len(in.Records) == 0 {
		return
	}
	if p.rec.Latency() {
		now := time.Now()
		for i := range in.Records {
			p.rec.Seen(now, in.Records[i].Data)
		}
	} else {
		p.rec.Add(len(in.Records))
	}
	_ = in.Checkpointer.Checkpoint(in.Records[len(in.Records)-1].SequenceNumber)
}

func (processor) Shutdown(in *interfaces.ShutdownInput) {
	if in.ShutdownReason == interfaces.TERMINATE {
		_ = in.Checkpointer.Checkpoint(nil) // shard end
	}
}

// memCheckpointer is a checkpoint.Checkpointer for a single worker: every
// lease is granted and checkpoints live in a map.
type memCheckpointer struct {
	mu          sync.Mutex        // guards checkpoints
	checkpoints map[string]string // shard ID → sequence number or SHARD_END
}

var _ checkpoint.Checkpointer = (*memCheckpointer)(nil)

func (*memCheckpointer) Init() error { return nil }

func (*memCheckpointer) GetLease(shard *partition.ShardStatus, owner string) error {
	shard.Mux.Lock()
	shard.AssignedTo = owner
	shard.LeaseTimeout = time.Now().Add(time.Hour)
	shard.Mux.Unlock()
	return nil
}

func (c *memCheckpointer) CheckpointSequence(shard *partition.ShardStatus) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checkpoints[shard.ID] = shard.GetCheckpoint()
	return nil
}

func (c *memCheckpointer) FetchCheckpoint(shard *partition.ShardStatus) error {
	c.mu.Lock()
	seq, ok := c.checkpoints[shard.ID]
	c.mu.Unlock()
	if !ok {
		return checkpoint.ErrSequenceIDNotFound
	}
	shard.SetCheckpoint(seq)
	return nil
}

func (c *memCheckpointer) RemoveLeaseInfo(shardID string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.checkpoints, shardID)
	return nil
}

func (*memCheckpointer) RemoveLeaseOwner(string) error { return nil }

func (*memCheckpointer) GetLeaseOwner(string) (string, error) { return "bench-worker", nil }

func (*memCheckpointer) ListActiveWorkers(map[string]*partition.ShardStatus) (map[string][]*partition.ShardStatus, error) {
	return nil, nil
}

func (*memCheckpointer) ClaimShard(*partition.ShardStatus, string) error { return nil }

// discard is a logger.Logger that drops everything.
type discard struct{}

func (discard) Debugf(string, ...any)                    {}
func (discard) Infof(string, ...any)                     {}
func (discard) Warnf(string, ...any)                     {}
func (discard) Errorf(string, ...any)                    {}
func (discard) Fatalf(string, ...any)                    {}
func (discard) Panicf(string, ...any)                    {}
func (d discard) WithFields(logger.Fields) logger.Logger { return d }
