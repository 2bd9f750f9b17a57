package kinesisconformance

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// maxHashKey is 2^128 - 1, the end of the hash key space.
var maxHashKey = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1))

// activeTimeout bounds the wait for a stream to become ACTIVE after
// CreateStream, SplitShard, MergeShards or UpdateShardCount. Real servers
// take about half a second.
const activeTimeout = 30 * time.Second

// maxCalls bounds the GetRecords calls of one read, so that a server that
// never ends a shard fails the test instead of hanging it.
const maxCalls = 50

// createStream creates a stream of n shards, waits until it is ACTIVE, and
// deletes it when the test ends. It returns the stream's name and ARN.
//
// A CreateStream refused with LimitExceededException (the account's shard
// quota, which AWS documents and kinesalite enforces at 10 open shards) is
// retried until other tests' streams are deleted.
func (s *suite) createStream(t *testing.T, n int) (name, arn string) {
	t.Helper()
	name = streamName()
	deadline := time.Now().Add(activeTimeout)
	for {
		_, err := s.c.CreateStream(s.ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(int32(n))})
		if err == nil {
			break
		}
		var quota *types.LimitExceededException
		if !errors.As(err, &quota) || time.Now().After(deadline) {
			t.Fatalf("CreateStream %s: %v", name, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Cleanup(func() { s.deleteStream(name) })
	return name, s.waitActive(t, name)
}

// deleteStream deletes a stream and waits until it is gone, so that its
// shards no longer count against the shard quota. It is best effort: a
// failure here is not the test's subject.
func (s *suite) deleteStream(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), activeTimeout)
	defer cancel()
	if _, err := s.c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(name)}); err != nil {
		return
	}
	for ctx.Err() == nil {
		_, err := s.c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		var gone *types.ResourceNotFoundException
		if errors.As(err, &gone) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitActive polls DescribeStreamSummary until the stream is ACTIVE and
// returns its ARN. It waits on real time: stream state changes are not
// part of the harness's clock.
func (s *suite) waitActive(t *testing.T, name string) string {
	t.Helper()
	deadline := time.Now().Add(activeTimeout)
	for {
		out, err := s.c.DescribeStreamSummary(s.ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if err != nil {
			t.Fatalf("DescribeStreamSummary %s: %v", name, err)
		}
		if d := out.StreamDescriptionSummary; d.StreamStatus == types.StreamStatusActive {
			return aws.ToString(d.StreamARN)
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream %s not ACTIVE after %v", name, activeTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// listShards lists every shard of the stream, following NextToken.
func (s *suite) listShards(t *testing.T, name string) []types.Shard {
	t.Helper()
	var shards []types.Shard
	in := &kinesis.ListShardsInput{StreamName: aws.String(name)}
	for range 100 {
		out, err := s.c.ListShards(s.ctx, in)
		if err != nil {
			t.Fatalf("ListShards %s: %v", name, err)
		}
		shards = append(shards, out.Shards...)
		if out.NextToken == nil {
			return shards
		}
		in = &kinesis.ListShardsInput{NextToken: out.NextToken}
	}
	t.Fatalf("ListShards %s: still a NextToken after 100 pages", name)
	return nil
}

// shard returns the shard with the given ID, failing the test if absent.
func findShard(t *testing.T, shards []types.Shard, id string) types.Shard {
	t.Helper()
	for _, sh := range shards {
		if aws.ToString(sh.ShardId) == id {
			return sh
		}
	}
	t.Fatalf("shard %s not listed", id)
	return types.Shard{}
}

func openShards(shards []types.Shard) []types.Shard {
	var out []types.Shard
	for _, sh := range shards {
		if sh.SequenceNumberRange == nil || sh.SequenceNumberRange.EndingSequenceNumber == nil {
			out = append(out, sh)
		}
	}
	return out
}

func ids(shards []types.Shard) []string {
	out := make([]string, len(shards))
	for i, sh := range shards {
		out[i] = aws.ToString(sh.ShardId)
	}
	slices.Sort(out)
	return out
}

// checkTiling asserts that shards, in any order, cover the hash key space
// [0, 2^128-1] without gap or overlap.
func checkTiling(t *testing.T, shards []types.Shard) {
	t.Helper()
	type rng struct{ lo, hi *big.Int }
	var rs []rng
	for _, sh := range shards {
		rs = append(rs, rng{num(t, aws.ToString(sh.HashKeyRange.StartingHashKey)), num(t, aws.ToString(sh.HashKeyRange.EndingHashKey))})
	}
	slices.SortFunc(rs, func(a, b rng) int { return a.lo.Cmp(b.lo) })
	next := big.NewInt(0)
	for _, r := range rs {
		if r.lo.Cmp(next) != 0 {
			t.Errorf("hash key ranges: got a range starting at %s, want %s", r.lo, next)
		}
		next = new(big.Int).Add(r.hi, big.NewInt(1))
	}
	if end := new(big.Int).Sub(next, big.NewInt(1)); end.Cmp(maxHashKey) != 0 {
		t.Errorf("hash key ranges end at %s, want 2^128-1", end)
	}
}

// num parses a decimal hash key or sequence number.
func num(t *testing.T, s string) *big.Int {
	t.Helper()
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		t.Fatalf("%q is not a decimal number", s)
	}
	return n
}

// hashKey is the MD5 hash of a partition key as an unsigned 128-bit
// integer: the key Kinesis routes by.
func hashKey(partitionKey string) *big.Int {
	h := md5.Sum([]byte(partitionKey))
	return new(big.Int).SetBytes(h[:])
}

func inRange(t *testing.T, sh types.Shard, k *big.Int) bool {
	return num(t, aws.ToString(sh.HashKeyRange.StartingHashKey)).Cmp(k) <= 0 && k.Cmp(num(t, aws.ToString(sh.HashKeyRange.EndingHashKey))) <= 0
}

// midpoint returns the middle of a shard's hash key range.
func midpoint(t *testing.T, sh types.Shard) string {
	lo, hi := num(t, aws.ToString(sh.HashKeyRange.StartingHashKey)), num(t, aws.ToString(sh.HashKeyRange.EndingHashKey))
	return new(big.Int).Rsh(new(big.Int).Add(lo, hi), 1).String()
}

// put is a record the suite wrote, and where it landed.
type put struct {
	Key, Data string
	ShardID   string
	Seq       string
}

// putRecords writes n records with keys prefix-0 … in one PutRecords call,
// or, with a non-empty explicit hash key, all with that key.
func (s *suite) putRecords(t *testing.T, name, prefix string, n int, explicitHashKey string) []put {
	t.Helper()
	in := &kinesis.PutRecordsInput{StreamName: aws.String(name)}
	recs := make([]put, n)
	for i := range recs {
		recs[i] = put{Key: fmt.Sprintf("%s-%d", prefix, i), Data: fmt.Sprintf("%s data %d", prefix, i)}
		e := types.PutRecordsRequestEntry{PartitionKey: aws.String(recs[i].Key), Data: []byte(recs[i].Data)}
		if explicitHashKey != "" {
			e.ExplicitHashKey = aws.String(explicitHashKey)
		}
		in.Records = append(in.Records, e)
	}
	out, err := s.c.PutRecords(s.ctx, in)
	if err != nil {
		t.Fatalf("PutRecords: %v", err)
	}
	if n := aws.ToInt32(out.FailedRecordCount); n != 0 {
		t.Fatalf("PutRecords: %d records failed", n)
	}
	if len(out.Records) != n {
		t.Fatalf("PutRecords: got %d results, want %d", len(out.Records), n)
	}
	for i, r := range out.Records {
		recs[i].ShardID, recs[i].Seq = aws.ToString(r.ShardId), aws.ToString(r.SequenceNumber)
	}
	return recs
}

func (s *suite) iterator(t *testing.T, name, shardID string, typ types.ShardIteratorType, seq string, ts *time.Time) string {
	t.Helper()
	in := &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: aws.String(shardID), ShardIteratorType: typ, Timestamp: ts}
	if seq != "" {
		in.StartingSequenceNumber = aws.String(seq)
	}
	out, err := s.c.GetShardIterator(s.ctx, in)
	if err != nil {
		t.Fatalf("GetShardIterator %s %s %s: %v", shardID, typ, seq, err)
	}
	if aws.ToString(out.ShardIterator) == "" {
		t.Fatalf("GetShardIterator %s %s: empty iterator", shardID, typ)
	}
	return *out.ShardIterator
}

// read calls GetRecords from it until it has n records (n < 0: until the
// shard's end, NextShardIterator nil) and returns them and the last
// response.
func (s *suite) read(t *testing.T, it string, n int, limit int32) ([]types.Record, *kinesis.GetRecordsOutput) {
	t.Helper()
	var recs []types.Record
	var out *kinesis.GetRecordsOutput
	for range maxCalls {
		in := &kinesis.GetRecordsInput{ShardIterator: aws.String(it)}
		if limit > 0 {
			in.Limit = aws.Int32(limit)
		}
		var err error
		out, err = s.c.GetRecords(s.ctx, in)
		if err != nil {
			t.Fatalf("GetRecords: %v", err)
		}
		recs = append(recs, out.Records...)
		if n >= 0 && len(recs) >= n {
			return recs, out
		}
		if out.NextShardIterator == nil {
			if n >= 0 {
				t.Fatalf("GetRecords: shard ended after %d records, want %d", len(recs), n)
			}
			return recs, out
		}
		it = *out.NextShardIterator
	}
	t.Fatalf("GetRecords: %d calls returned %d records and no shard end (want %d)", maxCalls, len(recs), n)
	return nil, nil
}

// checkRecords asserts that got are exactly want, in order.
func checkRecords(t *testing.T, got []types.Record, want []put) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d records, want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if aws.ToString(g.SequenceNumber) != w.Seq || aws.ToString(g.PartitionKey) != w.Key || string(g.Data) != w.Data {
			t.Errorf("record %d: got (%s, %s, %q), want (%s, %s, %q)", i,
				aws.ToString(g.SequenceNumber), aws.ToString(g.PartitionKey), g.Data, w.Seq, w.Key, w.Data)
		}
		if g.ApproximateArrivalTimestamp == nil || g.ApproximateArrivalTimestamp.IsZero() {
			t.Errorf("record %d: no ApproximateArrivalTimestamp", i)
		}
	}
}

// wantErr asserts that err holds an error of type E, as errors.As finds it.
func wantErr[E error](t *testing.T, what string, err error) {
	t.Helper()
	var target E
	if !errors.As(err, &target) {
		t.Errorf("%s: got error %v (%T), want %T", what, err, err, target)
	}
}
