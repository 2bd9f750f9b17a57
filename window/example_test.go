package window_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/esmkit/esmkit/window"
)

// count is a tumbling-window function: it counts records per partition
// key in its state, and prints the totals on the final invocation.
func count(ev window.Event) window.Response {
	state := map[string]int{}
	if err := json.Unmarshal(ev.State, &state); err != nil {
		panic(err)
	}
	for _, r := range ev.Records {
		state[r.Kinesis.PartitionKey]++
	}
	if ev.IsFinalInvokeForWindow {
		fmt.Printf("window %s to %s: %v\n", ev.Window.Start.Format("15:04:05"), ev.Window.End.Format("15:04:05"), state)
	}
	b, _ := json.Marshal(state)
	return window.Response{State: b}
}

// Example drives a Tracker as a lane of esm does: cut the pending records
// at window boundaries, invoke each batch and each final invocation, and
// close the last window when the shard ends.
func Example() {
	start := time.Date(2020, 12, 9, 7, 4, 0, 0, time.UTC)
	record := func(key string, arrival time.Duration) events.KinesisEventRecord {
		var r events.KinesisEventRecord
		r.Kinesis.PartitionKey = key
		r.Kinesis.ApproximateArrivalTimestamp.Time = start.Add(arrival)
		return r
	}
	// Arrival times are not strictly ordered: the "b" at 1m59s is read
	// after a record of the next window, so it is counted there.
	pending := []events.KinesisEventRecord{
		record("a", 10*time.Second), record("b", 70*time.Second), record("a", 100*time.Second),
		record("a", 125*time.Second), record("b", 119*time.Second), record("b", 130*time.Second),
	}
	tr, err := window.NewTracker(window.DefaultConfig(2*time.Minute), "shardId-000000000006", "arn:aws:kinesis:us-east-1:123456789012:stream/lambda-stream")
	if err != nil {
		panic(err)
	}
	invoke := func(records []events.KinesisEventRecord) {
		resp := count(tr.Next(records))
		if err := tr.Succeeded(resp.State); err != nil {
			panic(err) // a function error: retry under the retry policy
		}
	}
	const batchSize = 2
	for len(pending) > 0 {
		take, closeFirst := tr.Cut(len(pending), func(i int) time.Time {
			return pending[i].Kinesis.ApproximateArrivalTimestamp.Time
		})
		if closeFirst {
			invoke(nil)
			continue
		}
		n := min(take, batchSize)
		invoke(pending[:n])
		pending = pending[n:]
	}
	// The shard ends.
	if _, open := tr.Current(); open {
		invoke(nil)
	}
	// Output:
	// window 07:04:00 to 07:06:00: map[a:2 b:1]
	// window 07:06:00 to 07:08:00: map[a:1 b:2]
}

// ExampleTyped adapts a handler written with aws-lambda-go's types, whose
// state is a map[string]string.
func ExampleTyped() {
	h := window.Typed(func(_ context.Context, ev events.KinesisTimeWindowEvent) (events.KinesisTimeWindowEventResponse, error) {
		var resp events.KinesisTimeWindowEventResponse
		resp.State = ev.State
		resp.State["seen"] += fmt.Sprint(len(ev.Records))
		return resp, nil
	})
	resp, err := h(context.Background(), window.Event{State: json.RawMessage(`{"seen":"1"}`), Records: make([]events.KinesisEventRecord, 2)})
	fmt.Printf("%s %v\n", resp.State, err)

	// Lambda's example state holds numbers, which map[string]string cannot.
	_, err = h(context.Background(), window.Event{State: json.RawMessage(`{"1": 282, "2": 715}`)})
	fmt.Println(err)
	// Output:
	// {"seen":"12"} <nil>
	// window: state value of key "1" is a JSON number, not a string: aws-lambda-go's map[string]string cannot hold it; use window.Handler, whose State is json.RawMessage
}
