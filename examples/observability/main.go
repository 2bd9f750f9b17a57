// Command observability runs a mapping over an in-memory stream with
// injected faults — Kinesis throttling, expired iterators and a handler
// that sometimes fails — and prints a live status table once a second
// (per shard: checkpoint, iterator age, behind, in flight, errors) and
// Lambda's metrics at the end. No AWS account or server needed.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/esmkit/esmkit/esm"
	"github.com/esmkit/esmkit/kinesistest"
)

const total = 20000

func main() {
	kc := kinesistest.New()
	arn, err := kc.AddStream("telemetry", 3)
	if err != nil {
		log.Fatal(err)
	}
	// Faults: every 4th GetRecords is throttled, 2% of GetShardIterator
	// calls hit the limit, and iterators expire now and then (below).
	kc.Inject("GetRecords", kinesistest.Every(4), kinesistest.Throttling())
	kc.Inject("GetShardIterator", kinesistest.Probability(0.02, 1), kinesistest.LimitExceeded())

	var done atomic.Int64
	handler := func(ctx context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
		time.Sleep(time.Duration(rand.IntN(20)) * time.Millisecond)
		if rand.IntN(10) == 0 {
			return events.KinesisEventResponse{}, errors.New("downstream unavailable")
		}
		done.Add(int64(len(ev.Records)))
		return events.KinesisEventResponse{}, nil
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	m, err := esm.New(kc, arn, handler,
		esm.StartingPosition(esm.TrimHorizon),
		esm.BatchSize(200),
		esm.ParallelizationFactor(2),
		esm.PollInterval(200*time.Millisecond),
		esm.RetryBackoff(10*time.Millisecond, 100*time.Millisecond),
		esm.Logger(logger),
	)
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- m.Run(ctx) }()

	// A producer writes for a few seconds while the mapping runs.
	go func() {
		for i := 0; i < total; i++ {
			data := fmt.Sprintf(`{"sensor":%d,"reading":%d}`, i%50, i)
			if _, _, err := kc.Put(ctx, "telemetry", fmt.Sprint("sensor-", i%50), []byte(data)); err != nil {
				return
			}
			if i%500 == 0 {
				time.Sleep(100 * time.Millisecond)
				kc.ExpireIterators()
			}
		}
	}()

	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for done.Load() < total {
		select {
		case <-tick.C:
			printStatus(m)
		case err := <-runErr:
			log.Fatalf("mapping stopped: %v", err)
		}
	}
	printStatus(m)
	stop()
	if err := <-runErr; err != nil {
		log.Fatal(err)
	}
	st := m.Stats()
	fmt.Printf("\nstate %s, last result %q\n", m.State(), m.LastProcessingResult())
	fmt.Printf("PolledEventCount %d  InvokedEventCount %d  FailedInvokeEventCount %d  DroppedEventCount %d\n",
		st.PolledEventCount, st.InvokedEventCount, st.FailedInvokeEventCount, st.DroppedEventCount)
	fmt.Printf("Invocations %d  Errors %d  Throttles %d  (Kinesis GetRecords calls %d)\n",
		st.Invocations, st.Errors, st.Throttles, kc.Calls("GetRecords"))
}

func printStatus(m *esm.Mapping) {
	fmt.Printf("%-22s %-58s %10s %8s %9s %7s\n", "shard", "checkpoint", "iter age", "behind", "in flight", "errors")
	for _, s := range m.Shards() {
		fmt.Printf("%-22s %-58s %10s %7dms %5d/%-3d %7d\n", s.ShardID, s.Checkpoint,
			s.IteratorAge.Round(time.Millisecond), s.MillisBehindLatest, s.InFlight, s.Lanes, s.Errors)
	}
}
