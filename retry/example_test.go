package retry_test

import (
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/esmkit/esmkit/retry"
)

// A batch of four records where record 3 always fails, with bisect on and one
// retry (checklist item 45): the batch is halved, [3 4] is halved again, 3 is
// retried once and discarded, and 4 goes through. The loop is the whole of
// what a shard does with a batch; here the clock jumps instead of sleeping.
func ExamplePlan() {
	p := retry.DefaultPolicy()
	p.BisectBatchOnFunctionError = true
	p.MaximumRetryAttempts = 1

	recs := make([]events.KinesisEventRecord, 4)
	for i := range recs {
		recs[i].Kinesis.SequenceNumber = fmt.Sprint(i + 1)
		recs[i].Kinesis.ApproximateArrivalTimestamp.Time = time.Unix(0, 0)
	}
	handler := func(ev events.KinesisEvent) (events.KinesisEventResponse, error) {
		for _, r := range ev.Records {
			if r.Kinesis.SequenceNumber == "3" {
				return events.KinesisEventResponse{}, fmt.Errorf("cannot handle record %s", r.Kinesis.SequenceNumber)
			}
		}
		return events.KinesisEventResponse{}, nil
	}
	numbers := func(recs []events.KinesisEventRecord) []string {
		var s []string
		for _, r := range recs {
			s = append(s, r.Kinesis.SequenceNumber)
		}
		return s
	}

	pl := retry.NewPlan(p, recs, nil)
	now := time.Unix(10, 0)
	for done := false; !done; {
		a := pl.Next(now)
		switch a.Kind {
		case retry.Invoke:
			_, err := handler(events.KinesisEvent{Records: recs[a.Lo:a.Hi]})
			fmt.Printf("invoke %v (retry %d): %v\n", numbers(recs[a.Lo:a.Hi]), a.Attempt, err)
			pl.Report(now, retry.Result(events.KinesisEventResponse{}, err))
		case retry.Wait:
			now = now.Add(a.Delay)
		case retry.Discard:
			fmt.Printf("discard %v: %s after %d invocations: %v\n", numbers(recs[a.Lo:a.Hi]), a.Condition, a.InvokeCount, a.Err)
		case retry.Done:
			done = true
		}
	}
	fmt.Println("checkpoint:", recs[pl.Finished()-1].Kinesis.SequenceNumber)
	// Output:
	// invoke [1 2 3 4] (retry 0): cannot handle record 3
	// invoke [1 2] (retry 0): <nil>
	// invoke [3 4] (retry 0): cannot handle record 3
	// invoke [3] (retry 0): cannot handle record 3
	// invoke [3] (retry 1): cannot handle record 3
	// discard [3]: RetryAttemptsExhausted after 4 invocations: retry: retry attempts exhausted: cannot handle record 3
	// invoke [4] (retry 0): <nil>
	// checkpoint: 4
}
