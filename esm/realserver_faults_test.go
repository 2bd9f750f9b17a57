package esm_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/esmkit/esmkit/esm"
	"github.com/esmkit/esmkit/internal/testserver"
)

// No local server throttles, and their iterators expire only after a fixed
// five minutes, so these tests inject AWS's error responses at the HTTP
// client (testserver.Faults): the SDK decodes them as if Kinesis had sent
// them, and the mapping must ride through them.

// noSDKRetries turns the SDK's retryer off (one attempt), so that every
// injected fault reaches esm: otherwise the standard retryer would retry
// throttles and 5xx itself and hide them from the code under test.
func noSDKRetries(o *kinesis.Options) { o.RetryMaxAttempts = 1 }

// TestInjectedFaultsDecodeAsSDKErrors checks that each synthetic response
// is decoded into the SDK's own error, without reaching the server.
func TestInjectedFaultsDecodeAsSDKErrors(t *testing.T) {
	tests := []struct {
		fault  testserver.Fault
		check  func(error) bool
		status int
	}{
		{testserver.ProvisionedThroughputExceeded, isA[*types.ProvisionedThroughputExceededException], 400},
		{testserver.ExpiredIterator, isA[*types.ExpiredIteratorException], 400},
		{testserver.LimitExceeded, isA[*types.LimitExceededException], 400},
		{testserver.InternalFailure, hasCode("InternalFailure"), 500},
		{testserver.ServiceUnavailable, hasCode("ServiceUnavailable"), 503},
	}
	endpoint := testserver.Kinesis(t)
	for _, tc := range tests {
		t.Run(tc.fault.Type, func(t *testing.T) {
			f := testserver.NewFaults()
			f.Inject("GetRecords", testserver.Script("x"), tc.fault)
			kc := testserver.KinesisClient(t, endpoint, noSDKRetries, f.Option)
			// A malformed iterator: had the call reached kinesalite, it
			// would be InvalidArgumentException.
			in := &kinesis.GetRecordsInput{ShardIterator: aws.String("not-an-iterator")}
			_, err := kc.GetRecords(context.Background(), in)
			if !tc.check(err) {
				t.Errorf("injected %s: got %v (%T)", tc.fault.Type, err, err)
			}
			var re *awshttp.ResponseError
			if !errors.As(err, &re) || re.HTTPStatusCode() != tc.status {
				t.Errorf("injected %s: got HTTP status of %v, want %d", tc.fault.Type, err, tc.status)
			} else if re.ServiceRequestID() == "" {
				t.Errorf("injected %s: no request ID", tc.fault.Type)
			}
			var api smithy.APIError
			if !errors.As(err, &api) || api.ErrorMessage() != tc.fault.Message {
				t.Errorf("injected %s: got message of %v, want %q", tc.fault.Type, err, tc.fault.Message)
			}
			// The script is spent: the next call reaches the server.
			_, err = kc.GetRecords(context.Background(), in)
			if !isA[*types.InvalidArgumentException](err) {
				t.Errorf("second call: got %v, want the server's InvalidArgumentException", err)
			}
			if got := f.Injected("GetRecords"); got != 1 {
				t.Errorf("Injected: got %d, want 1", got)
			}
		})
	}

	// With the SDK's standard retryer (3 attempts), throttles and 5xx are
	// retried inside the SDK: the caller sees success. This is why the
	// mapping tests turn it off.
	f := testserver.NewFaults()
	f.Inject("DescribeStreamSummary", testserver.Script("xx"), testserver.ServiceUnavailable)
	kc := testserver.KinesisClient(t, endpoint, f.Option)
	_, err := kc.DescribeStreamSummary(context.Background(), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(uniqueName("missing"))})
	if !isA[*types.ResourceNotFoundException](err) || f.Calls("DescribeStreamSummary") != 3 {
		t.Errorf("standard retryer: got %v after %d calls, want ResourceNotFoundException after 3", err, f.Calls("DescribeStreamSummary"))
	}
}

func isA[E error](err error) bool {
	var target E
	return errors.As(err, &target)
}

func hasCode(code string) func(error) bool {
	return func(err error) bool {
		var api smithy.APIError
		return errors.As(err, &api) && api.ErrorCode() == code
	}
}

// TestRealServerFaultStorm runs the mapping through a storm of each fault
// against each server: every record is delivered exactly once, in order
// per shard, nothing skipped.
func TestRealServerFaultStorm(t *testing.T) {
	type injection struct {
		op    string
		p     testserver.Pattern
		fault testserver.Fault
	}
	storms := []struct {
		name   string
		inject []injection
	}{
		{"ProvisionedThroughputExceeded", []injection{
			{"GetRecords", testserver.Every(2), testserver.ProvisionedThroughputExceeded},
			{"GetShardIterator", testserver.Script("x.x"), testserver.ProvisionedThroughputExceeded},
		}},
		{"ExpiredIterator", []injection{
			{"GetRecords", testserver.Every(3), testserver.ExpiredIterator},
			{"GetRecords", testserver.Script("xx"), testserver.ExpiredIterator},
		}},
		{"LimitExceeded", []injection{
			{"ListShards", testserver.Script("x.x"), testserver.LimitExceeded},
			{"GetShardIterator", testserver.Every(2), testserver.LimitExceeded},
		}},
		{"InternalFailure", []injection{
			{"ListShards", testserver.Script("x"), testserver.InternalFailure},
			{"GetRecords", testserver.Every(3), testserver.InternalFailure},
			{"GetShardIterator", testserver.Script("x"), testserver.InternalFailure},
		}},
		{"ServiceUnavailable", []injection{
			{"GetRecords", testserver.Script("x.xx.x..x"), testserver.ServiceUnavailable},
			{"GetRecords", testserver.Every(4), testserver.ServiceUnavailable},
			{"GetShardIterator", testserver.Script("x"), testserver.ServiceUnavailable},
		}},
	}
	eachServer(t, func(t *testing.T, s realServer) {
		for _, storm := range storms {
			t.Run(storm.name, func(t *testing.T) {
				t.Parallel()       // on kinesalite, newStream queues for the shard quota
				api := s.client(t) // puts and set-up: no faults
				name, arn := newStream(t, api, "rs-storm", 2)
				f := testserver.NewFaults()
				for _, in := range storm.inject {
					f.Inject(in.op, in.p, in.fault)
				}
				faulty := s.client(t, noSDKRetries, f.Option)
				c := newCollector(0)
				opts := append([]esm.Option{esm.StartingPosition(esm.TrimHorizon), esm.BatchSize(25)}, s.opts...)
				stop := run(t, newMapping(t, faulty, arn, c.handle, opts...))
				var all []rec
				for i := range 6 {
					r := makeRecs(fmt.Sprint("s", i), 60, 12)
					put(t, api, name, r)
					all = append(all, r...)
					time.Sleep(300 * time.Millisecond)
				}
				c.expect(len(all))
				c.wait(t, 2*time.Minute)
				if err := stop(); err != nil {
					t.Fatalf("Run: %v", err)
				}
				checkExactlyOnceInOrder(t, c.records(), all)
				for _, in := range storm.inject {
					if f.Injected(in.op) == 0 {
						t.Errorf("no %s fault injected into %s", in.fault.Type, in.op)
					}
				}
			})
		}
	})
}
