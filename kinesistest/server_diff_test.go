package kinesistest_test

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/esmkit/esmkit/kinesistest"
)

// TestServerDifferential runs random operations, valid and not, with
// random faults, clock steps and resharding, on both sides of a pair: the
// Client in process and the same Client behind a Server, called through
// the SDK. call fails the test at the first output or error that differs.
func TestServerDifferential(t *testing.T) {
	steps := 300
	if testing.Short() {
		steps = 60
	}
	for seed := range uint64(12) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			d := &differ{p: newPair(t), rng: rand.New(rand.NewPCG(seed, 1))}
			for range steps {
				d.step()
			}
			if d.records == 0 || d.reads == 0 {
				t.Errorf("got %d records read in %d reads, want some: the generator is too hostile", d.records, d.reads)
			}
		})
	}
}

type differ struct {
	p   *pair
	rng *rand.Rand

	iterators []*string // issued by GetShardIterator or GetRecords
	seqs      []string  // returned by puts
	tokens    []*string // ListShards NextTokens
	shards    []types.Shard
	records   int // read by GetRecords
	reads     int
}

var (
	diffStreams = []string{"a", "b", "c", "no-such-stream"}
	diffKeys    = []string{"k", "key-1", "key-2", "ключ", "😀", `"quoted"\`, "tab\tnew\nline", "x"}
)

func (d *differ) pick(n int) int { return d.rng.IntN(n) }

func (d *differ) streamName() *string { return ptr(diffStreams[d.pick(len(diffStreams))]) }

// streamRef addresses a random stream by name or by ARN.
func (d *differ) streamRef() (name, arn *string) {
	n := d.streamName()
	if d.pick(2) == 0 {
		return n, nil
	}
	return nil, ptr("arn:aws:kinesis:us-east-1:123456789012:stream/" + *n)
}

func (d *differ) shardID() *string {
	if len(d.shards) > 0 && d.pick(4) > 0 {
		return d.shards[d.pick(len(d.shards))].ShardId
	}
	return ptr(fmt.Sprintf("shardId-%012d", d.pick(8)))
}

func (d *differ) data() []byte {
	b := make([]byte, d.pick(3)*d.pick(700))
	for i := range b {
		b[i] = byte(d.rng.Uint32())
	}
	return b
}

func (d *differ) entry() types.PutRecordsRequestEntry {
	e := types.PutRecordsRequestEntry{PartitionKey: ptr(diffKeys[d.pick(len(diffKeys))]), Data: d.data()}
	switch d.pick(64) {
	case 1, 2, 3, 4, 5, 6, 7, 8:
		h := new(big.Int).Lsh(new(big.Int).SetUint64(d.rng.Uint64()), 64)
		e.ExplicitHashKey = ptr(h.Or(h, new(big.Int).SetUint64(d.rng.Uint64())).String())
	case 0: // rare, as it fails a whole PutRecords
		e.ExplicitHashKey = ptr("not a number")
	}
	return e
}

func (d *differ) limit(n int) *int32 {
	if d.pick(3) == 0 {
		return nil
	}
	return ptr(int32(d.pick(n + 1))) // 0 is invalid
}

func (d *differ) step() {
	p := d.p
	switch d.pick(20) {
	case 0:
		in := &kinesis.CreateStreamInput{StreamName: d.streamName(), ShardCount: ptr(int32(d.pick(5)))}
		if d.pick(4) == 0 {
			in.ShardCount = nil
			in.StreamModeDetails = &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}
		}
		_, _ = call(p, api.CreateStream, in)
	case 1:
		if d.pick(5) == 0 {
			name, arn := d.streamRef()
			_, _ = call(p, api.DeleteStream, &kinesis.DeleteStreamInput{StreamName: name, StreamARN: arn})
		}
	case 2, 3:
		name, arn := d.streamRef()
		e := d.entry()
		out, err := call(p, api.PutRecord, &kinesis.PutRecordInput{StreamName: name, StreamARN: arn,
			PartitionKey: e.PartitionKey, ExplicitHashKey: e.ExplicitHashKey, Data: e.Data})
		if err == nil {
			d.seqs = append(d.seqs, *out.SequenceNumber)
		}
	case 4, 5:
		name, arn := d.streamRef()
		in := &kinesis.PutRecordsInput{StreamName: name, StreamARN: arn}
		for range 1 + d.pick(30) {
			in.Records = append(in.Records, d.entry())
		}
		out, err := call(p, api.PutRecords, in)
		if err == nil {
			for _, r := range out.Records {
				d.seqs = append(d.seqs, *r.SequenceNumber)
			}
		}
	case 6, 7, 8:
		name, arn := d.streamRef()
		in := &kinesis.GetShardIteratorInput{StreamName: name, StreamARN: arn, ShardId: d.shardID()}
		its := types.ShardIteratorType("").Values()
		in.ShardIteratorType = its[d.pick(len(its))]
		if d.pick(2) == 0 {
			in.ShardIteratorType = types.ShardIteratorTypeTrimHorizon
		}
		if len(d.seqs) > 0 && d.pick(6) > 0 {
			in.StartingSequenceNumber = &d.seqs[d.pick(len(d.seqs))]
		}
		if d.pick(6) > 0 {
			// Some milliseconds before now, or a little after.
			in.Timestamp = ptr(p.dclk.Now().Add(time.Duration(d.pick(5000)-200) * -time.Millisecond))
		}
		out, err := call(p, api.GetShardIterator, in)
		if err == nil {
			d.iterators = append(d.iterators, out.ShardIterator)
		}
	case 9, 10, 11, 12:
		in := &kinesis.GetRecordsInput{ShardIterator: ptr("garbage"), Limit: d.limit(40)}
		if n := len(d.iterators); n > 0 && d.pick(10) > 0 {
			// Mostly one of the newest, which are less likely expired.
			in.ShardIterator = d.iterators[n-1-d.pick(min(n, 4))]
			if d.pick(8) == 0 {
				in.ShardIterator = d.iterators[d.pick(n)]
			}
		}
		out, err := call(p, api.GetRecords, in)
		if err == nil {
			d.reads++
			d.records += len(out.Records)
			if out.NextShardIterator != nil {
				d.iterators = append(d.iterators, out.NextShardIterator)
			}
		}
	case 13:
		in := &kinesis.ListShardsInput{MaxResults: d.limit(4)}
		if len(d.tokens) > 0 && d.pick(3) == 0 {
			in.NextToken = d.tokens[d.pick(len(d.tokens))]
		} else {
			in.StreamName, in.StreamARN = d.streamRef()
			if d.pick(3) == 0 {
				in.ExclusiveStartShardId = d.shardID()
			}
			if d.pick(2) == 0 {
				fs := types.ShardFilterType("").Values()
				in.ShardFilter = &types.ShardFilter{Type: fs[d.pick(len(fs))]}
				if d.pick(4) > 0 {
					in.ShardFilter.ShardId = d.shardID()
				}
				if d.pick(4) > 0 {
					in.ShardFilter.Timestamp = ptr(p.dclk.Now().Add(time.Duration(d.pick(10000)) * -time.Millisecond))
				}
			}
		}
		out, err := call(p, api.ListShards, in)
		if err == nil {
			if out.NextToken != nil {
				d.tokens = append(d.tokens, out.NextToken)
			}
			if in.ShardFilter == nil && in.NextToken == nil && in.ExclusiveStartShardId == nil {
				d.shards = out.Shards
			}
		}
	case 14:
		name, arn := d.streamRef()
		in := &kinesis.DescribeStreamInput{StreamName: name, StreamARN: arn, Limit: d.limit(4)}
		if d.pick(3) == 0 {
			in.ExclusiveStartShardId = d.shardID()
		}
		_, _ = call(p, api.DescribeStream, in)
		name, arn = d.streamRef()
		_, _ = call(p, api.DescribeStreamSummary, &kinesis.DescribeStreamSummaryInput{StreamName: name, StreamARN: arn})
	case 15:
		// Split an open shard of the last listing, mostly inside its range.
		name, arn := d.streamRef()
		in := &kinesis.SplitShardInput{StreamName: name, StreamARN: arn, ShardToSplit: d.shardID(), NewStartingHashKey: ptr("1")}
		if len(d.shards) > 0 {
			s := d.shards[d.pick(len(d.shards))]
			lo, _ := new(big.Int).SetString(*s.HashKeyRange.StartingHashKey, 10)
			hi, _ := new(big.Int).SetString(*s.HashKeyRange.EndingHashKey, 10)
			mid := lo.Add(lo, hi).Rsh(lo, 1)
			in.ShardToSplit, in.NewStartingHashKey = s.ShardId, ptr(mid.String())
		}
		_, _ = call(p, api.SplitShard, in)
	case 16:
		name, arn := d.streamRef()
		in := &kinesis.MergeShardsInput{StreamName: name, StreamARN: arn, ShardToMerge: d.shardID(), AdjacentShardToMerge: d.shardID()}
		_, _ = call(p, api.MergeShards, in)
	case 17:
		if d.pick(20) == 0 {
			p.advance(301 * time.Second) // expires iterators and NextTokens
		} else {
			p.advance(time.Duration(d.pick(3000)) * time.Millisecond)
		}
	case 18:
		ops := []string{"GetRecords", "GetShardIterator", "PutRecords", "PutRecord", "ListShards", "DescribeStream"}
		errs := []error{kinesistest.Throttling(), kinesistest.LimitExceeded(), kinesistest.ExpiredIterator(), kinesistest.InternalFailure()}
		triggers := []kinesistest.Trigger{kinesistest.FirstN(1 + d.pick(2)), kinesistest.Every(2 + d.pick(5)), kinesistest.Probability(0.2, d.rng.Uint64())}
		switch d.pick(6) {
		case 0, 1, 2:
			p.direct.ClearFaults()
			p.served.ClearFaults()
		case 3:
			p.direct.ExpireIterators()
			p.served.ExpireIterators()
		default:
			p.inject(ops[d.pick(len(ops))], triggers[d.pick(len(triggers))], errs[d.pick(len(errs))])
		}
	case 19:
		_, arn := d.streamRef()
		if d.pick(4) == 0 {
			arn = nil
		}
		sizes := []int32{1024, 2048, 10240, 1, 20000}
		_, _ = call(p, api.UpdateMaxRecordSize, &kinesis.UpdateMaxRecordSizeInput{StreamARN: arn, MaxRecordSizeInKiB: &sizes[d.pick(len(sizes))]})
	}
}
