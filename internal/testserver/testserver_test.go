package testserver_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/esmkit/esmkit/internal/testserver"
)

func TestMain(m *testing.M) { os.Exit(testserver.Main(m)) }

// apiError is smithy.APIError, declared here to keep smithy-go an indirect
// dependency.
type apiError interface {
	ErrorCode() string
	ErrorMessage() string
}

func ptr[T any](v T) *T { return &v }

var streamSeq atomic.Int64

// createStream creates a stream with a name unique in this process and waits
// until it is ACTIVE. It returns the name and the ARN.
func createStream(ctx context.Context, t *testing.T, client *kinesis.Client, shards int32) (name, arn string) {
	t.Helper()
	name = fmt.Sprintf("testserver-%d-%d", os.Getpid(), streamSeq.Add(1))
	if _, err := client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: &name, ShardCount: &shards}); err != nil {
		t.Fatalf("CreateStream(%s): %v", name, err)
	}
	w := kinesis.NewStreamExistsWaiter(client, func(o *kinesis.StreamExistsWaiterOptions) {
		o.MinDelay = 50 * time.Millisecond
		o.MaxDelay = 200 * time.Millisecond
	})
	out, err := w.WaitForOutput(ctx, &kinesis.DescribeStreamInput{StreamName: &name}, 20*time.Second)
	if err != nil {
		t.Fatalf("waiting for %s to be ACTIVE: %v", name, err)
	}
	return name, *out.StreamDescription.StreamARN
}

// TestServersAnswer starts every server in the table and checks that each
// endpoint answers HTTP.
func TestServersAnswer(t *testing.T) {
	client := testserver.NewHTTPClient()
	tests := []struct {
		name     string
		endpoint func(testing.TB) string
	}{
		{"Kinesis", testserver.Kinesis},
		{"KinesisMock", testserver.KinesisMock},
		{"KinesisMockTLS", testserver.KinesisMockTLS},
		{"Dynamo", testserver.Dynamo},
		{"SQS", testserver.SQS},
		{"SNS", testserver.SNS},
		{"S3", testserver.S3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			url := tc.endpoint(t)
			t.Logf("%s ready in %v", url, time.Since(start).Round(time.Millisecond))
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("GET %s: %v", url, err)
			}
			_ = resp.Body.Close()
		})
	}
}

func TestKinesisRoundTrip(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := testserver.KinesisClient(t, testserver.Kinesis(t))
	name, _ := createStream(ctx, t, client, 2)

	shards, err := client.ListShards(ctx, &kinesis.ListShardsInput{StreamName: &name})
	if err != nil {
		t.Fatalf("ListShards: %v", err)
	}
	if got := len(shards.Shards); got != 2 {
		t.Fatalf("got %d shards, want 2", got)
	}

	data := []byte("hello, esmkit \x00\xff")
	put, err := client.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: &name, PartitionKey: ptr("pk-1"), Data: data})
	if err != nil {
		t.Fatalf("PutRecord: %v", err)
	}
	it, err := client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
		StreamName: &name, ShardId: put.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
	})
	if err != nil {
		t.Fatalf("GetShardIterator: %v", err)
	}
	got, err := client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		t.Fatalf("GetRecords: %v", err)
	}
	if len(got.Records) != 1 {
		t.Fatalf("got %d records, want 1", len(got.Records))
	}
	r := got.Records[0]
	if !bytes.Equal(r.Data, data) || *r.PartitionKey != "pk-1" || *r.SequenceNumber != *put.SequenceNumber {
		t.Errorf("got record {Data %q, PartitionKey %q, SequenceNumber %s}, want {%q, %q, %s}",
			r.Data, *r.PartitionKey, *r.SequenceNumber, data, "pk-1", *put.SequenceNumber)
	}
	if got.NextShardIterator == nil {
		t.Errorf("got nil NextShardIterator on an open shard, want an iterator")
	}
}

// TestKinesaliteStreamARN records what kinesalite 3.3.3 does with the
// StreamARN parameter, which real Kinesis accepts in place of StreamName:
// with both, kinesalite uses StreamName and ignores StreamARN, even one that
// names another stream; with StreamARN alone it fails. So code that sends
// both works against kinesalite and AWS alike. If an upgrade changes this,
// the test fails and the finding must be re-checked.
func TestKinesaliteStreamARN(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := testserver.KinesisClient(t, testserver.Kinesis(t), func(o *kinesis.Options) { o.RetryMaxAttempts = 1 })
	name, arn := createStream(ctx, t, client, 1)
	otherARN := strings.TrimSuffix(arn, name) + "no-such-stream"
	shardID := "shardId-000000000000"
	put, err := client.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: &name, PartitionKey: ptr("pk"), Data: []byte("x")})
	if err != nil {
		t.Fatalf("PutRecord: %v", err)
	}
	it, err := client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
		StreamName: &name, ShardId: put.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatalf("GetShardIterator: %v", err)
	}

	listShards := func(name, arn *string) error {
		_, err := client.ListShards(ctx, &kinesis.ListShardsInput{StreamName: name, StreamARN: arn})
		return err
	}
	getShardIterator := func(name, arn *string) error {
		_, err := client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
			StreamName: name, StreamARN: arn, ShardId: &shardID, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		return err
	}
	tests := []struct {
		name     string
		call     func() error
		wantCode string // "" for success
	}{
		{"ListShards name and ARN", func() error { return listShards(&name, &arn) }, ""},
		{"ListShards name and another stream's ARN", func() error { return listShards(&name, &otherARN) }, ""},
		{"ListShards ARN only", func() error { return listShards(nil, &arn) }, "InvalidArgumentException"},
		{"GetShardIterator name and ARN", func() error { return getShardIterator(&name, &arn) }, ""},
		{"GetShardIterator name and another stream's ARN", func() error { return getShardIterator(&name, &otherARN) }, ""},
		{"GetShardIterator ARN only", func() error { return getShardIterator(nil, &arn) }, "ValidationException"},
		{"GetRecords iterator and ARN", func() error {
			_, err := client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator, StreamARN: &arn})
			return err
		}, ""},
		{"PutRecord name and ARN", func() error {
			_, err := client.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: &name, StreamARN: &arn, PartitionKey: ptr("pk"), Data: []byte("y")})
			return err
		}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			code := ""
			var ae apiError
			if errors.As(err, &ae) {
				code = ae.ErrorCode()
				t.Logf("%s: %s", code, ae.ErrorMessage())
			} else if err != nil {
				t.Fatalf("got %v, want an API error or success", err)
			}
			if code != tc.wantCode {
				t.Errorf("got error code %q, want %q", code, tc.wantCode)
			}
		})
	}
}

// TestHTTPClientNoClosedConnection checks the race that HTTPClient works
// around. A Go server that answers as soon as it has read the body is fast
// enough to hit it: with retries off, 8 × 4 KiB PutRecords calls through a
// plain http.Client failed with "use of closed network connection" in 5 of
// 2,000 calls, and in 54 of 2,000 under -race; through HTTPClient, 0 of 2,000
// in both. kinesalite answers too slowly to show it (0 of 300).
func TestHTTPClientNoClosedConnection(t *testing.T) {
	const calls = 300
	resp := []byte(`{"FailedRecordCount":0,"Records":[` +
		strings.Repeat(`{"SequenceNumber":"1","ShardId":"shardId-000000000000"},`, 2000) +
		`{"SequenceNumber":"1","ShardId":"shardId-000000000000"}]}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = w.Write(resp)
	}))
	defer srv.Close()
	client := testserver.KinesisClient(t, srv.URL, func(o *kinesis.Options) { o.RetryMaxAttempts = 1 })

	// The body must exceed net/http's 4 KiB write buffer to reach the race.
	entries := make([]types.PutRecordsRequestEntry, 8)
	for i := range entries {
		entries[i] = types.PutRecordsRequestEntry{PartitionKey: ptr(fmt.Sprint(i)), Data: bytes.Repeat([]byte{'x'}, 4<<10)}
	}
	failed := 0
	var first error
	for range calls {
		_, err := client.PutRecords(context.Background(), &kinesis.PutRecordsInput{StreamName: ptr("s"), Records: entries})
		if err != nil {
			failed++
			if first == nil {
				first = err
			}
		}
	}
	if failed != 0 {
		t.Errorf("got %d of %d calls failed (first: %v), want 0", failed, calls, first)
	}
}
