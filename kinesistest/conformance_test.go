package kinesistest_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/esmkit/esmkit/internal/kinesisconformance"
	"github.com/esmkit/esmkit/kinesistest"
)

// harness is one Client with a clock the suite advances.
type harness struct {
	c *kinesistest.Client

	mu  sync.Mutex // guards now
	now time.Time
}

func newHarness(context.Context, *testing.T) (kinesisconformance.Harness, error) {
	h := &harness{now: time.Now()}
	h.c = kinesistest.New(kinesistest.Clock(h.clock))
	return h, nil
}

func (h *harness) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

func (h *harness) Client() kinesisconformance.Client { return h.c }

// Capabilities: kinesistest follows AWS in everything the suite checks,
// except that it has no UpdateShardCount (AWS has; the mapping does not
// call it).
func (h *harness) Capabilities() kinesisconformance.Capabilities {
	return kinesisconformance.Capabilities{
		StreamARN:                true,
		UpdateShardCount:         false, // not implemented: *kinesistest.Client has no UpdateShardCount method
		ListShardsPagination:     true,
		ShardFilter:              true,
		ShardFilterAtTrimHorizon: true,
		MillisBehindLatest:       true,
		ChildShards:              true,
		EndingSequenceNumber:     true,
		InvalidIteratorError:     true,
		StrictArguments:          true,
		LimitInvalidArgument:     true,
		AtTimestampPastTip:       true,
		FakeClock:                true,
	}
}

func (h *harness) Sleep(d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.now = h.now.Add(d)
}

func (h *harness) Close() {}

func TestConformance(t *testing.T) {
	kinesisconformance.Run(t, newHarness)
}
