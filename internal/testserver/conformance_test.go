package testserver_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/esmkit/esmkit/internal/kinesisconformance"
	"github.com/esmkit/esmkit/internal/testserver"
)

// realHarness is a *kinesis.Client against a local server, with SDK
// retries off so that every server error reaches the suite as it is.
type realHarness struct {
	c    *kinesis.Client
	caps kinesisconformance.Capabilities
}

func (h realHarness) Client() kinesisconformance.Client             { return h.c }
func (h realHarness) Capabilities() kinesisconformance.Capabilities { return h.caps }
func (realHarness) Sleep(d time.Duration)                           { time.Sleep(d) }
func (realHarness) Close()                                          {}
func noRetries(o *kinesis.Options)                                  { o.RetryMaxAttempts = 1 }

var _ kinesisconformance.ShardCountUpdater = (*kinesis.Client)(nil)

// kinesaliteCaps is what kinesalite 3.3.3 does, each gap with what it does
// instead (shared/testservers/README.md has the measurements).
var kinesaliteCaps = kinesisconformance.Capabilities{
	StreamARN:                false, // StreamARN without StreamName fails: ListShards InvalidArgumentException "Either NextToken or StreamName should be provided", others ValidationException "'streamName' must not be null"
	UpdateShardCount:         false, // UnknownOperationException
	ListShardsPagination:     false, // MaxResults ignored: every shard in one page, no NextToken
	ShardFilter:              false, // ignored: every shard, whatever the filter
	ShardFilterAtTrimHorizon: false, // ignored as above
	MillisBehindLatest:       false, // always 0, however far behind
	ChildShards:              false, // never set at the end of a closed shard
	EndingSequenceNumber:     true,
	InvalidIteratorError:     true,
	StrictArguments:          true,
	LimitInvalidArgument:     false, // ValidationException "Value '10001' at 'limit' failed to satisfy constraint"
	AtTimestampPastTip:       false, // never answers: it calls back only when a record at or after the timestamp exists
	FakeClock:                false, // real time: iterators expire after a fixed 300 s
}

// kinesisLocalCaps is what kinesis-local 0.6.2 does.
var kinesisLocalCaps = kinesisconformance.Capabilities{
	StreamARN:                true,
	UpdateShardCount:         true,
	ListShardsPagination:     true,
	ShardFilter:              true,
	ShardFilterAtTrimHorizon: false, // AT_TRIM_HORIZON also lists the children made by a split
	MillisBehindLatest:       true,
	ChildShards:              true,
	EndingSequenceNumber:     false, // a closed shard ends at 9223372036854775807 (Long.MaxValue), below its records' 56-digit numbers
	InvalidIteratorError:     false, // a malformed iterator is HTTP 500 (UnknownError/InternalFailure), a stack trace in its log
	StrictArguments:          false, // accepts another shard's sequence number in GetShardIterator, and SplitShard at the shard's StartingHashKey
	LimitInvalidArgument:     true,
	AtTimestampPastTip:       true,
	FakeClock:                false, // real time: iterators expire after a fixed 300 s
}

func TestConformanceKinesalite(t *testing.T) {
	kinesisconformance.Run(t, func(_ context.Context, t *testing.T) (kinesisconformance.Harness, error) {
		return realHarness{testserver.KinesisClient(t, testserver.Kinesis(t), noRetries), kinesaliteCaps}, nil
	})
}

func TestConformanceKinesisLocal(t *testing.T) {
	kinesisconformance.Run(t, func(_ context.Context, t *testing.T) (kinesisconformance.Harness, error) {
		return realHarness{testserver.KinesisClient(t, testserver.KinesisMock(t), noRetries), kinesisLocalCaps}, nil
	})
}
