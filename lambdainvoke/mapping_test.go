package lambdainvoke_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	lambdago "github.com/aws/aws-lambda-go/lambda"

	"github.com/esmkit/esmkit/esm"
	"github.com/esmkit/esmkit/kinesistest"
	"github.com/esmkit/esmkit/lambdainvoke"
	"github.com/esmkit/esmkit/lambdainvoke/lambdainvoketest"
)

// TestMappingThroughRemoteFunction runs an esm.Mapping over kinesistest whose
// handler invokes a function deployed in lambdainvoketest, and checks that
// Lambda's rules apply to the remote function's answers: a throttle is
// retried without reaching the function, a function error bisects and then
// uses up attempts, an invalid partial response halves the batch, and a
// partial response retries from the lowest failed record.
func TestMappingThroughRemoteFunction(t *testing.T) {
	const stream = "remote"
	kc := kinesistest.New()
	arn, err := kc.AddStream(stream, 1)
	if err != nil {
		t.Fatal(err)
	}
	const n = 10
	for i := 1; i <= n; i++ {
		if _, _, err := kc.Put(context.Background(), stream, "k", []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}

	var (
		mu        sync.Mutex
		calls     []string // each invocation's data, "[1,2]"
		seen      = map[string]bool{}
		succeeded = map[string]bool{}
		done      = make(chan struct{})
	)
	// The deployed function, as it would be written for lambda.Start.
	function := func(_ context.Context, ev events.KinesisEvent) (any, error) {
		ids := make([]string, len(ev.Records))
		for i, r := range ev.Records {
			ids[i] = string(r.Kinesis.Data)
		}
		key := "[" + strings.Join(ids, ",") + "]"
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, key)
		first := !seen[key]
		seen[key] = true
		var resp any = events.KinesisEventResponse{}
		ok := ids
		switch {
		case slices.Contains(ids, "3"): // a poison record
			return nil, errors.New("cannot process record 3")
		case key == "[4,5]" && first: // a bad key name: invalid
			return map[string]any{"batchItemFailures": []map[string]string{{"itemId": "4"}}}, nil
		case ids[0] == "6" && first: // record 7 fails once
			resp = events.KinesisEventResponse{BatchItemFailures: []events.KinesisBatchItemFailure{
				{ItemIdentifier: ev.Records[1].Kinesis.SequenceNumber}}}
			ok = ids[:1]
		}
		for _, id := range ok {
			succeeded[id] = true
		}
		if len(succeeded) == n-1 {
			close(done)
		}
		return resp, nil
	}

	srv := lambdainvoketest.NewServer()
	defer srv.Close()
	srv.AddFunction("consumer", lambdago.NewHandler(function))
	srv.FailNext(1, lambdainvoketest.TooManyRequests())
	h, err := lambdainvoke.Handler(srv.Client(), "consumer")
	if err != nil {
		t.Fatal(err)
	}
	m, err := esm.New(kc, arn, h,
		esm.StartingPosition(esm.TrimHorizon),
		esm.BatchSize(n),
		esm.BisectBatchOnFunctionError(true),
		esm.FunctionResponseTypes(esm.ReportBatchItemFailuresType),
		esm.MaximumRetryAttempts(1),
		esm.RetryBackoff(time.Millisecond, 10*time.Millisecond),
		esm.PollInterval(200*time.Millisecond),
		esm.ReadRateLimit(0),
	)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- m.Run(ctx) }()
	select {
	case <-done:
	case err := <-runErr:
		t.Fatalf("Run returned early: %v", err)
	case <-time.After(time.Minute):
		mu.Lock()
		t.Fatalf("not done after a minute; calls: %s", strings.Join(calls, " "))
	}
	cancel()
	if err := <-runErr; err != nil {
		t.Fatal(err)
	}

	mu.Lock()
	defer mu.Unlock()
	want := strings.Join([]string{
		"[1,2,3,4,5,6,7,8,9,10]",                        // after one throttle, which the function never saw
		"[1,2,3,4,5]", "[1,2,3]", "[1,2]", "[3]", "[3]", // bisect, then one retry of [3]
		"[4,5]", "[4]", "[5]", // invalid partial response: halved
		"[6,7,8,9,10]", "[7,8,9,10]", // partial response: retry from 7
	}, " ")
	if got := strings.Join(calls, " "); got != want {
		t.Errorf("got invocations  %s\nwant invocations %s", got, want)
	}
	st := m.Stats()
	if st.Throttles != 1 || st.Invocations != int64(len(calls)) || st.Errors != 5 || st.DroppedEventCount != 1 {
		t.Errorf("got throttles %d, invocations %d, errors %d, dropped %d; want 1, %d, 5, 1",
			st.Throttles, st.Invocations, st.Errors, st.DroppedEventCount, len(calls))
	}
}
