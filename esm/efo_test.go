package esm_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/esmkit/esmkit/esm"
	"github.com/esmkit/esmkit/internal/testserver"
	"github.com/esmkit/esmkit/kinesistest"
	"github.com/esmkit/esmkit/shard"
)

func registerConsumer(t testing.TB, api shard.FanOutClient, streamARN, name string) string {
	t.Helper()
	c, err := shard.RegisterConsumer(context.Background(), api, streamARN, name)
	if err != nil {
		t.Fatalf("RegisterConsumer: %v", err)
	}
	return c.ARN
}

// TestEnhancedFanOut runs a mapping on a consumer ARN for 16 minutes of a
// steady producer: subscriptions end every 5 minutes and are renewed
// without a gap, a duplicate or a reordering (checklist 73); records name
// the stream, not the consumer.
func TestEnhancedFanOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kc := kinesistest.New()
		streamARN := createStream(t, kc, "efo", 2)
		consumerARN := registerConsumer(t, kc, streamARN, "esm")
		c := newCollector(0)
		m := newMapping(t, kc, consumerARN, c.handle, esm.StartingPosition(esm.TrimHorizon), esm.BatchSize(50))
		stop := run(t, m)
		var all []rec
		for i := range 16 * 6 {
			r := makeRecs(fmt.Sprint("e", i), 20, 8)
			put(t, kc, "efo", r)
			all = append(all, r...)
			time.Sleep(10 * time.Second)
		}
		c.mu.Lock()
		c.want, c.done = len(all), make(chan struct{})
		if c.total >= c.want {
			close(c.done)
			c.done = nil
		}
		c.mu.Unlock()
		c.wait(t, time.Minute)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		checkExactlyOnceInOrder(t, c.records(), all)
		if n := kc.Calls("SubscribeToShard"); n < 2*4 {
			t.Errorf("%d SubscribeToShard calls in 16 minutes on 2 shards, want the 5-minute renewals", n)
		}
		if n := kc.Calls("GetRecords"); n != 0 {
			t.Errorf("%d GetRecords calls, want none with enhanced fan-out", n)
		}
	})
}

func TestEnhancedFanOutResharding(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kc := kinesistest.New()
		streamARN := createStream(t, kc, "efo", 1)
		consumerARN := registerConsumer(t, kc, streamARN, "esm")
		first := makeRecs("a", 100, 10)
		put(t, kc, "efo", first)
		c := newCollector(len(first))
		stop := run(t, newMapping(t, kc, consumerARN, c.handle, esm.StartingPosition(esm.TrimHorizon),
			esm.BatchSize(10), esm.ShardRefreshInterval(time.Second)))
		c.wait(t, time.Minute)
		splitFirst(t, kc, "efo")
		second := makeRecs("b", 100, 10)
		put(t, kc, "efo", second)
		c.mu.Lock()
		c.want, c.done = len(first)+len(second), make(chan struct{})
		c.mu.Unlock()
		c.wait(t, time.Minute)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		all := append(append([]rec(nil), first...), second...)
		checkExactlyOnceInOrder(t, c.records(), all)
		checkKeyOrder(t, c.records(), all)
	})
}

func TestEnhancedFanOutValidation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kc := kinesistest.New()
		streamARN := createStream(t, kc, "efo", 1)
		// A polling-only client cannot read a consumer.
		type pollOnly struct{ shard.Client }
		_, err := esm.New(pollOnly{kc}, streamARN+"/consumer/c:1", nopHandler, esm.StartingPosition(esm.TrimHorizon))
		if !errors.Is(err, esm.ErrInvalidOption) {
			t.Errorf("New with a polling-only client: got %v, want ErrInvalidOption", err)
		}
		// A consumer that does not exist fails Run at once.
		m := newMapping(t, kc, streamARN+"/consumer/missing:1", nopHandler, esm.StartingPosition(esm.TrimHorizon))
		if err := m.Run(context.Background()); err == nil {
			t.Error("Run with a missing consumer: got nil, want an error")
		}
	})
}

// TestEnhancedFanOutKinesisLocal reads through a real SubscribeToShard
// stream served by kinesis-local (with the test-only initial-response shim).
func TestEnhancedFanOutKinesisLocal(t *testing.T) {
	api := testserver.KinesisClient(t, testserver.KinesisMock(t), testserver.InitialResponseShim)
	name := fmt.Sprintf("efo-%d", time.Now().UnixNano())
	streamARN := createStream(t, api, name, 2)
	consumerARN := registerConsumer(t, api, streamARN, "esm")
	recs := makeRecs("l", 200, 20)
	put(t, api, name, recs)
	c := newCollector(len(recs))
	stop := run(t, newMapping(t, api, consumerARN, c.handle, esm.StartingPosition(esm.TrimHorizon), esm.BatchSize(50)))
	c.wait(t, time.Minute)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	checkExactlyOnceInOrder(t, c.records(), recs)
}
