package esm_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/esmkit/esmkit/esm"
	"github.com/esmkit/esmkit/kinesistest"
)

const testARN = "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream"

func nopHandler(context.Context, events.KinesisEvent) (events.KinesisEventResponse, error) {
	return events.KinesisEventResponse{}, nil
}

func TestNewValidation(t *testing.T) {
	trim := esm.StartingPosition(esm.TrimHorizon)
	tests := []struct {
		name    string
		arn     string
		opts    []esm.Option
		wantErr string // substring; "" means valid
	}{
		{"defaults with position", testARN, []esm.Option{trim}, ""},
		{"missing starting position", testARN, nil, "StartingPosition is required"},
		{"unknown starting position", testARN, []esm.Option{esm.StartingPosition("SOMEWHERE")}, `StartingPosition "SOMEWHERE"`},
		{"batch size 0", testARN, []esm.Option{trim, esm.BatchSize(0)}, "BatchSize 0 not in [1, 10000]"},
		{"batch size 10001", testARN, []esm.Option{trim, esm.BatchSize(10001)}, "BatchSize 10001 not in [1, 10000]"},
		{"batch size 1", testARN, []esm.Option{trim, esm.BatchSize(1)}, ""},
		{"batch size 10000", testARN, []esm.Option{trim, esm.BatchSize(10000)}, ""},
		{"window 301s", testARN, []esm.Option{trim, esm.MaximumBatchingWindow(301 * time.Second)}, "MaximumBatchingWindow 5m1s not in [0s, 5m0s]"},
		{"window negative", testARN, []esm.Option{trim, esm.MaximumBatchingWindow(-time.Second)}, "MaximumBatchingWindow -1s"},
		{"window 300s", testARN, []esm.Option{trim, esm.MaximumBatchingWindow(300 * time.Second)}, ""},
		{"timestamp with LATEST", testARN, []esm.Option{esm.StartingPosition(esm.Latest), esm.StartingPositionTimestamp(time.Now().Add(-time.Hour))}, "only valid with AT_TIMESTAMP"},
		{"AT_TIMESTAMP without timestamp", testARN, []esm.Option{esm.StartingPosition(esm.AtTimestamp)}, "needs StartingPositionTimestamp"},
		{"AT_TIMESTAMP in the future", testARN, []esm.Option{esm.StartingPosition(esm.AtTimestamp), esm.StartingPositionTimestamp(time.Now().Add(time.Hour))}, "is in the future"},
		{"AT_TIMESTAMP in the past", testARN, []esm.Option{esm.StartingPosition(esm.AtTimestamp), esm.StartingPositionTimestamp(time.Now().Add(-time.Hour))}, ""},
		{"poll interval 100ms", testARN, []esm.Option{trim, esm.PollInterval(100 * time.Millisecond)}, "PollInterval 100ms not in [200ms, 5m0s]"},
		{"poll interval 200ms", testARN, []esm.Option{trim, esm.PollInterval(200 * time.Millisecond)}, ""},
		{"shard refresh 0", testARN, []esm.Option{trim, esm.ShardRefreshInterval(0)}, "ShardRefreshInterval 0s not in [1s, 1h0m0s]"},
		{"negative shutdown", testARN, []esm.Option{trim, esm.ShutdownTimeout(-1)}, "ShutdownTimeout -1ns is negative"},
		{"negative read rate", testARN, []esm.Option{trim, esm.ReadRateLimit(-1)}, "ReadRateLimit -1 is negative"},
		{"retry backoff inverted", testARN, []esm.Option{trim, esm.RetryBackoff(time.Second, time.Millisecond)}, "RetryBackoff"},
		{"not an ARN", "orders", []esm.Option{trim}, `EventSourceArn: invalid Kinesis stream ARN "orders"`},
		{"consumer ARN", testARN + "/consumer/c:1", []esm.Option{trim}, ""},
		{"malformed consumer ARN", testARN + "/consumer/", []esm.Option{trim}, "EventSourceArn"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := esm.New(kinesistest.New(), tc.arn, nopHandler, tc.opts...)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("New: got error %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("New: got nil error, want one containing %q", tc.wantErr)
			}
			if !errors.Is(err, esm.ErrInvalidOption) {
				t.Errorf("New: got %v, want an error wrapping ErrInvalidOption", err)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("New: got %q, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestNewNilArguments(t *testing.T) {
	if _, err := esm.New(nil, testARN, nopHandler, esm.StartingPosition(esm.TrimHorizon)); !errors.Is(err, esm.ErrInvalidOption) {
		t.Errorf("nil client: got %v, want ErrInvalidOption", err)
	}
	if _, err := esm.New(kinesistest.New(), testARN, nil, esm.StartingPosition(esm.TrimHorizon)); !errors.Is(err, esm.ErrInvalidOption) {
		t.Errorf("nil handler: got %v, want ErrInvalidOption", err)
	}
}
