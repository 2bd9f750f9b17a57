// Command tumbling-window counts records per partition key per minute with
// Lambda's tumbling windows: the handler keeps the counts in the window's
// state, which the mapping passes from one invocation to the next, and
// reports them at the window's final invocation. No AWS account or server
// needed.
//
// Windows follow records' arrival times in the stream, so the example
// writes records with a clock it controls: three minutes of traffic are
// replayed in about a second.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/esmkit/esmkit/esm"
	"github.com/esmkit/esmkit/kinesistest"
	"github.com/esmkit/esmkit/window"
)

// clock is the stream's time: arrival timestamps come from it.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }

func main() {
	start := time.Now().UTC().Truncate(time.Minute).Add(-5 * time.Minute)
	clk := &clock{now: start}
	kc := kinesistest.New(kinesistest.Clock(clk.Now))
	arn, err := kc.AddStream("clicks", 1)
	if err != nil {
		log.Fatal(err)
	}
	keys := []string{"home", "search", "cart"}
	for i := range 180 { // one record a second for three minutes
		clk.Set(start.Add(time.Duration(i) * time.Second))
		key := keys[i%len(keys)]
		if i%5 == 0 {
			key = "home"
		}
		if _, _, err := kc.Put(context.Background(), "clicks", key, []byte(`{"page":"`+key+`"}`)); err != nil {
			log.Fatal(err)
		}
	}
	clk.Set(time.Now())

	ctx, stop := context.WithCancel(context.Background())
	finals := 0
	handler := func(ctx context.Context, ev window.Event) (window.Response, error) {
		counts := map[string]int{}
		if err := json.Unmarshal(ev.State, &counts); err != nil {
			return window.Response{}, err
		}
		if ev.IsFinalInvokeForWindow {
			fmt.Printf("window %s–%s:", ev.Window.Start.Format("15:04:05"), ev.Window.End.Format("15:04:05"))
			for _, k := range slices.Sorted(maps.Keys(counts)) {
				fmt.Printf(" %s=%d", k, counts[k])
			}
			fmt.Println()
			if finals++; finals == 3 {
				stop()
			}
			return window.Response{State: json.RawMessage(`{}`)}, nil
		}
		for _, r := range ev.Records {
			counts[r.Kinesis.PartitionKey]++
		}
		state, err := json.Marshal(counts)
		return window.Response{State: state}, err
	}
	m, err := esm.NewWindowed(kc, arn, handler,
		esm.StartingPosition(esm.TrimHorizon),
		esm.TumblingWindow(time.Minute),
		esm.TumblingWindowLateWait(0), // the replayed minutes are long over
		esm.BatchSize(25),
	)
	if err != nil {
		log.Fatal(err)
	}
	if err := m.Run(ctx); err != nil {
		log.Fatal(err)
	}
}
