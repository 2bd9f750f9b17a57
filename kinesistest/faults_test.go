package kinesistest_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/esmkit/esmkit/kinesistest"
)

func listErr(c *kinesistest.Client) error {
	_, err := c.ListShards(context.Background(), &kinesis.ListShardsInput{StreamName: ptr(stream)})
	return err
}

func TestFaultKinds(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		check  func(*testing.T, error)
		status int
	}{
		{"Throttling", kinesistest.Throttling(), wantErr[*types.ProvisionedThroughputExceededException], 400},
		{"LimitExceeded", kinesistest.LimitExceeded(), wantErr[*types.LimitExceededException], 400},
		{"ExpiredIterator", kinesistest.ExpiredIterator(), wantErr[*types.ExpiredIteratorException], 400},
		{"InternalFailure", kinesistest.InternalFailure(), wantErr[*smithy.GenericAPIError], 500},
		{"custom", &types.ResourceInUseException{Message: ptr("busy")}, wantErr[*types.ResourceInUseException], 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := setup(t, 1)
			c.Inject("ListShards", kinesistest.Every(1), tc.err)
			err := listErr(c)
			tc.check(t, err)

			// Shaped like the SDK's errors: operation, then HTTP response.
			var opErr *smithy.OperationError
			if !errors.As(err, &opErr) || opErr.Service() != "Kinesis" || opErr.Operation() != "ListShards" {
				t.Errorf("got %v, want a *smithy.OperationError for Kinesis ListShards", err)
			}
			var respErr *awshttp.ResponseError
			if !errors.As(err, &respErr) {
				t.Fatalf("got %v, want an *awshttp.ResponseError", err)
			}
			if got := respErr.HTTPStatusCode(); got != tc.status {
				t.Errorf("got HTTP status %d, want %d", got, tc.status)
			}
			if respErr.ServiceRequestID() == "" {
				t.Error("got an empty request ID")
			}
		})
	}
}

func TestInternalFailureShape(t *testing.T) {
	err := kinesistest.InternalFailure()
	var respErr *awshttp.ResponseError
	if !errors.As(err, &respErr) || respErr.HTTPStatusCode() != http.StatusInternalServerError {
		t.Fatalf("got %v, want an *awshttp.ResponseError with status 500", err)
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InternalFailure" || apiErr.ErrorFault() != smithy.FaultServer {
		t.Errorf("got %v, want a server-fault smithy.APIError with code InternalFailure", err)
	}
	var generic *smithy.GenericAPIError
	if !errors.As(err, &generic) {
		t.Errorf("got %v, want a *smithy.GenericAPIError inside", err)
	}
}

// failures returns, for n calls of ListShards, which ones failed (1-based).
func failures(c *kinesistest.Client, n int) []int {
	var out []int
	for i := 1; i <= n; i++ {
		if listErr(c) != nil {
			out = append(out, i)
		}
	}
	return out
}

func TestTriggers(t *testing.T) {
	tests := []struct {
		name string
		t    kinesistest.Trigger
		want []int
	}{
		{"Every(3)", kinesistest.Every(3), []int{3, 6, 9}},
		{"Every(1)", kinesistest.Every(1), []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
		{"FirstN(2)", kinesistest.FirstN(2), []int{1, 2}},
		{"Probability(0)", kinesistest.Probability(0, 1), nil},
		{"Probability(1)", kinesistest.Probability(1, 1), []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := setup(t, 1)
			c.Inject("ListShards", tc.t, kinesistest.Throttling())
			if got := failures(c, 10); !slices.Equal(got, tc.want) {
				t.Errorf("got failed calls %v, want %v", got, tc.want)
			}
		})
	}

	t.Run("Probability is reproducible", func(t *testing.T) {
		var runs [][]int
		for range 2 {
			c, _ := setup(t, 1)
			c.Inject("ListShards", kinesistest.Probability(0.3, 42), kinesistest.Throttling())
			runs = append(runs, failures(c, 200))
		}
		if !slices.Equal(runs[0], runs[1]) {
			t.Errorf("got %v then %v, want equal", runs[0], runs[1])
		}
		if n := len(runs[0]); n < 30 || n > 90 {
			t.Errorf("got %d of 200 failed at p = 0.3, want about 60", n)
		}
	})

	t.Run("other operations unaffected", func(t *testing.T) {
		c, _ := setup(t, 1)
		c.Inject("GetRecords", kinesistest.Every(1), kinesistest.Throttling())
		if err := listErr(c); err != nil {
			t.Errorf("got %v, want no error", err)
		}
	})

	t.Run("first injected wins", func(t *testing.T) {
		c, _ := setup(t, 1)
		c.Inject("ListShards", kinesistest.Every(2), kinesistest.LimitExceeded())
		c.Inject("ListShards", kinesistest.Every(1), kinesistest.Throttling())
		wantErr[*types.ProvisionedThroughputExceededException](t, listErr(c))
		wantErr[*types.LimitExceededException](t, listErr(c))
	})

	t.Run("ClearFaults", func(t *testing.T) {
		c, _ := setup(t, 1)
		c.Inject("ListShards", kinesistest.Every(1), kinesistest.Throttling())
		c.ClearFaults()
		if err := listErr(c); err != nil {
			t.Errorf("got %v, want no error", err)
		}
	})
}

func TestInjectPanics(t *testing.T) {
	tests := []struct {
		name string
		op   string
		t    kinesistest.Trigger
		err  error
	}{
		{"unknown op", "GetRecord", kinesistest.Every(1), kinesistest.Throttling()},
		{"Every(0)", "GetRecords", kinesistest.Every(0), kinesistest.Throttling()},
		{"FirstN(0)", "GetRecords", kinesistest.FirstN(0), kinesistest.Throttling()},
		{"Probability(2)", "GetRecords", kinesistest.Probability(2, 0), kinesistest.Throttling()},
		{"zero Trigger", "GetRecords", kinesistest.Trigger{}, kinesistest.Throttling()},
		{"nil error", "GetRecords", kinesistest.Every(1), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("got no panic, want one")
				}
			}()
			kinesistest.New().Inject(tc.op, tc.t, tc.err)
		})
	}
}

func TestCalls(t *testing.T) {
	c, _ := setup(t, 1)
	c.Inject("GetShardIterator", kinesistest.Every(2), kinesistest.Throttling())
	ctx := context.Background()
	for range 3 {
		_, _ = c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: ptr(stream), ShardId: ptr("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeLatest})
	}
	listErr(c)
	put(t, c, "k", "helpers are not counted")
	tests := []struct {
		op   string
		want int
	}{
		{"GetShardIterator", 3}, // failed calls count too
		{"ListShards", 1},
		{"PutRecord", 0},
		{"GetRecords", 0},
	}
	for _, tc := range tests {
		if got := c.Calls(tc.op); got != tc.want {
			t.Errorf("Calls(%q): got %d, want %d", tc.op, got, tc.want)
		}
	}
}

func TestContextDone(t *testing.T) {
	c, _ := setup(t, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: ptr(stream)})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
	if _, _, err := c.Put(ctx, stream, "k", nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Put: got %v, want context.Canceled", err)
	}
}

func TestFaultsConcurrently(t *testing.T) {
	c, _ := setup(t, 1)
	c.Inject("ListShards", kinesistest.Every(2), kinesistest.Throttling())
	c.Inject("ListShards", kinesistest.Probability(0.5, 7), kinesistest.InternalFailure())
	errs := make(chan error, 400)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				errs <- listErr(c)
			}
		})
	}
	wg.Go(c.ExpireIterators)
	wg.Go(func() { _ = c.Calls("ListShards") })
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if err != nil {
			failed++
		}
	}
	// Every(2) alone fails exactly half of the 400 calls; Probability adds more.
	if failed < 200 {
		t.Errorf("got %d failed calls, want at least 200", failed)
	}
	if got := c.Calls("ListShards"); got != 400 {
		t.Errorf("got %d calls, want 400", got)
	}
}
