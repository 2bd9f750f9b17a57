// Package sdkloop is the raw aws-sdk-go-v2 consumer loop of the sdk-loop
// and sdk-convert contenders: it lists the shards, takes a TRIM_HORIZON
// iterator for each and calls GetRecords (Limit 10000) in a loop, one
// goroutine per shard. A page that is empty or caught up
// (MillisBehindLatest 0) is followed by a pause of -poll (200 ms), the same
// pacing esmkit uses in the latency scenario; a full or behind page is
// followed at once by the next call. A throttled call waits -poll and
// retries with the same iterator; nothing is checkpointed.
package sdkloop

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"golang.org/x/sync/errgroup"

	"github.com/esmkit/esmkit/benchmarks/internal/harness"
	"github.com/esmkit/esmkit/internal/event"
)

const limit = 10000

// Start returns a harness start function running the loop; page, if not
// nil, is called with every page's records before they are counted.
func Start(page func(*event.Source, []types.Record)) func(context.Context, harness.Config, *harness.Recorder) error {
	return func(ctx context.Context, cfg harness.Config, rec *harness.Recorder) error {
		return run(ctx, cfg, rec, page)
	}
}

func run(ctx context.Context, cfg harness.Config, rec *harness.Recorder, page func(*event.Source, []types.Record)) error {
	client := harness.NewClient(cfg.Endpoint)
	var shards []types.Shard
	in := &kinesis.ListShardsInput{StreamName: aws.String(cfg.Stream)}
	for {
		out, err := client.ListShards(ctx, in)
		if err != nil {
			return err
		}
		shards = append(shards, out.Shards...)
		if out.NextToken == nil {
			break
		}
		in = &kinesis.ListShardsInput{NextToken: out.NextToken}
	}
	g, ctx := errgroup.WithContext(ctx)
	for _, sh := range shards {
		g.Go(func() error { return readShard(ctx, client, cfg, aws.ToString(sh.ShardId), rec, page) })
	}
	return g.Wait()
}

func readShard(ctx context.Context, client *kinesis.Client, cfg harness.Config, shardID string, rec *harness.Recorder, page func(*event.Source, []types.Record)) error {
	src := &event.Source{StreamARN: cfg.StreamARN, ShardID: shardID}
	if page != nil {
		region, err := event.RegionFromARN(cfg.StreamARN)
		if err != nil {
			return err
		}
		src.Region = region
	}
	it, err := client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
		StreamName:        aws.String(cfg.Stream),
		ShardId:           aws.String(shardID),
		ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
	})
	if err != nil {
		return err
	}
	iter := it.ShardIterator
	for iter != nil {
		out, err := client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(limit)})
		var throttled *types.ProvisionedThroughputExceededException
		switch {
		case errors.As(err, &throttled):
			if !sleep(ctx, cfg.Poll) {
				return ctx.Err()
			}
			continue
		case err != nil:
			return err
		}
		if page != nil {
			page(src, out.Records)
		}
		if rec.Latency() {
			now := time.Now()
			for i := range out.Records {
				rec.Seen(now, out.Records[i].Data)
			}
		} else {
			rec.Add(len(out.Records))
		}
		iter = out.NextShardIterator
		if len(out.Records) < limit && aws.ToInt64(out.MillisBehindLatest) == 0 {
			if !sleep(ctx, cfg.Poll) {
				return ctx.Err()
			}
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
