package esm_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/esmkit/esmkit/esm"
	"github.com/esmkit/esmkit/internal/testserver"
)

// These tests run a mapping through a real *kinesis.Client against
// kinesalite, an independent Kinesis implementation started on loopback.
// kinesalite accepts only StreamName, hence AddressStreamByName.

func kinesalite(t *testing.T) streamAPI {
	t.Helper()
	return testserver.KinesisClient(t, testserver.Kinesis(t))
}

func realServerOpts() []esm.Option {
	return []esm.Option{esm.AddressStreamByName(true), esm.PollInterval(200 * time.Millisecond)}
}

func TestKinesaliteTrimHorizonOrderPerShard(t *testing.T) {
	api := kinesalite(t)
	name := fmt.Sprintf("trim-%d", time.Now().UnixNano())
	arn := createStream(t, api, name, 3)
	recs := makeRecs("k", 900, 30)
	put(t, api, name, recs)
	if got := len(shardsOf(recs)); got != 3 {
		t.Fatalf("records landed in %d shards, want 3", got)
	}
	c := newCollector(len(recs))
	opts := append(realServerOpts(), esm.StartingPosition(esm.TrimHorizon), esm.BatchSize(50))
	stop := run(t, newMapping(t, api, arn, c.handle, opts...))
	c.wait(t, time.Minute)
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	checkExactlyOnceInOrder(t, c.records(), recs)
	checkKeyOrder(t, c.records(), recs)
}

func TestKinesaliteStopAndRestartOnSameStore(t *testing.T) {
	restartSuite(t, kinesalite(t), fmt.Sprintf("restart-%d", time.Now().UnixNano()), 3, realServerOpts()...)
}
