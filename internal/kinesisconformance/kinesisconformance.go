// Package kinesisconformance checks that a Kinesis implementation behaves as
// AWS documents the polling API.
//
// It is the Kinesis counterpart of checkpointtest: [Run] takes a
// [HarnessMaker], and every implementation esmkit is tested against — the
// in-memory kinesistest.Client, kinesalite and kinesis-local — has a short
// conformance_test.go that implements the [Harness] and reports, as
// [Capabilities], what it lacks. A capability that is off never skips a
// test: the test checks what the server does support and logs what it left
// out, so every subtest runs against every server.
//
// The reference is the Kinesis Data Streams API reference (GetShardIterator,
// GetRecords, ListShards, SplitShard, MergeShards, UpdateShardCount) and
// section 4.1 of the project's Lambda ESM specification.
package kinesisconformance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// Client is the part of the Kinesis API the suite calls. *kinesis.Client
// and *kinesistest.Client satisfy it.
type Client interface {
	CreateStream(context.Context, *kinesis.CreateStreamInput, ...func(*kinesis.Options)) (*kinesis.CreateStreamOutput, error)
	DeleteStream(context.Context, *kinesis.DeleteStreamInput, ...func(*kinesis.Options)) (*kinesis.DeleteStreamOutput, error)
	DescribeStreamSummary(context.Context, *kinesis.DescribeStreamSummaryInput, ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error)
	ListShards(context.Context, *kinesis.ListShardsInput, ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error)
	PutRecord(context.Context, *kinesis.PutRecordInput, ...func(*kinesis.Options)) (*kinesis.PutRecordOutput, error)
	PutRecords(context.Context, *kinesis.PutRecordsInput, ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error)
	GetShardIterator(context.Context, *kinesis.GetShardIteratorInput, ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error)
	GetRecords(context.Context, *kinesis.GetRecordsInput, ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error)
	SplitShard(context.Context, *kinesis.SplitShardInput, ...func(*kinesis.Options)) (*kinesis.SplitShardOutput, error)
	MergeShards(context.Context, *kinesis.MergeShardsInput, ...func(*kinesis.Options)) (*kinesis.MergeShardsOutput, error)
}

// ShardCountUpdater is the optional UpdateShardCount method. A Client with
// [Capabilities].UpdateShardCount must implement it; one without it may
// (kinesalite's *kinesis.Client does, and the server refuses the call).
type ShardCountUpdater interface {
	UpdateShardCount(context.Context, *kinesis.UpdateShardCountInput, ...func(*kinesis.Options)) (*kinesis.UpdateShardCountOutput, error)
}

// Capabilities says which documented behaviours an implementation has. The
// zero value claims none; an implementation that follows AWS sets every
// field. The harness should say, next to each false field, what its server
// does instead.
type Capabilities struct {
	// StreamARN: every operation accepts StreamARN in place of StreamName.
	StreamARN bool
	// UpdateShardCount: UpdateShardCount with UNIFORM_SCALING reshards the
	// stream, and the new shards name the old ones as parents.
	UpdateShardCount bool
	// ListShardsPagination: ListShards returns at most MaxResults shards
	// and a NextToken for the rest; NextToken cannot be combined with
	// StreamName.
	ListShardsPagination bool
	// ShardFilter: ListShards honours ShardFilter (AT_LATEST lists only the
	// open shards; AFTER_SHARD_ID only the shards after ShardId).
	ShardFilter bool
	// ShardFilterAtTrimHorizon: ShardFilter AT_TRIM_HORIZON lists only the
	// shards open at the trim horizon (with nothing trimmed, the stream's
	// first shards), not their children.
	ShardFilterAtTrimHorizon bool
	// MillisBehindLatest: GetRecords reports MillisBehindLatest > 0 when
	// its response stops short of the newest record.
	MillisBehindLatest bool
	// ChildShards: the GetRecords response that reaches the end of a
	// closed shard lists the shard's children in ChildShards.
	ChildShards bool
	// EndingSequenceNumber: a closed shard's
	// SequenceNumberRange.EndingSequenceNumber is a sequence number of its
	// own range, at least the shard's last record's.
	EndingSequenceNumber bool
	// InvalidIteratorError: GetRecords with a malformed ShardIterator
	// fails with InvalidArgumentException (HTTP 400).
	InvalidIteratorError bool
	// StrictArguments: GetShardIterator with a sequence number of another
	// shard, and SplitShard at the shard's own StartingHashKey, fail with
	// InvalidArgumentException. Without it the suite only logs the result.
	StrictArguments bool
	// LimitInvalidArgument: GetRecords with Limit outside 1–10,000 fails
	// with InvalidArgumentException, as the GetRecords reference says.
	// Without it the suite only wants some error.
	LimitInvalidArgument bool
	// AtTimestampPastTip: GetShardIterator AT_TIMESTAMP with a timestamp
	// after the shard's newest record (but not in the future) returns an
	// iterator at the tip. Without it the suite does not make that call.
	AtTimestampPastTip bool
	// FakeClock: Harness.Sleep advances the server's clock without
	// waiting, so the suite can let an iterator's five minutes pass.
	FakeClock bool
}

// Harness gives the suite a Kinesis implementation.
type Harness interface {
	// Client returns the client the suite calls. It must be safe for
	// concurrent use; the suite creates streams with names no other test
	// uses, so a server shared between harnesses works.
	Client() Client
	// Capabilities reports what the implementation supports.
	Capabilities() Capabilities
	// Sleep lets d pass on the server's clock before it returns:
	// time.Sleep for a real server; advancing a fake clock (with
	// Capabilities.FakeClock) for one that has it. The suite sleeps for at
	// most a few hundred milliseconds unless FakeClock is set.
	Sleep(d time.Duration)
	// Close releases the harness's resources.
	Close()
}

// HarnessMaker makes a Harness. Run calls it once per test, in parallel
// tests, and calls Harness.Close when the test ends.
type HarnessMaker func(ctx context.Context, t *testing.T) (Harness, error)

// Run runs the conformance suite against the implementation newHarness
// makes. The subtests run in parallel with each other, since a real
// server spends most of a CreateStream, SplitShard or MergeShards waiting.
func Run(t *testing.T, newHarness HarnessMaker) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s *suite)
	}{
		{"CreateStream/ShardsTileHashSpace", testCreateStream},
		{"PutRecords/RoutingAndOrder", testPutRouting},
		{"StreamARN", testStreamARN},
		{"Errors/ResourceNotFound", testResourceNotFound},
		{"Errors/InvalidArgument", testInvalidArgument},
		{"Errors/ExpiredIterator", testExpiredIterator},
		{"Iterator/TrimHorizon", testTrimHorizon},
		{"Iterator/Latest", testLatest},
		{"Iterator/AtAndAfterSequenceNumber", testAtAfterSequenceNumber},
		{"Iterator/AtTimestamp", testAtTimestamp},
		{"GetRecords/Limit", testLimit},
		{"GetRecords/MillisBehindLatest", testMillisBehindLatest},
		{"Reshard/Split", testSplit},
		{"Reshard/Merge", testMerge},
		{"Reshard/UpdateShardCount", testUpdateShardCount},
		{"ListShards/Pagination", testListShardsPagination},
		{"ListShards/ShardFilter", testShardFilter},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, err := newHarness(t.Context(), t)
			if err != nil {
				t.Fatalf("making harness: %v", err)
			}
			defer h.Close()
			// A server that never answers fails the test instead of hanging it.
			ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
			defer cancel()
			tc.fn(t, &suite{ctx: ctx, h: h, c: h.Client(), caps: h.Capabilities()})
		})
	}
}

// callTimeout bounds each test's calls together.
const callTimeout = time.Minute

// suite is what one test works with.
type suite struct {
	ctx  context.Context // bounded by callTimeout
	h    Harness
	c    Client
	caps Capabilities
}

// streamName returns a stream name no other test or run uses.
func streamName() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "conformance-" + hex.EncodeToString(b[:])
}
