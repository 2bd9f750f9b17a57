package sqsdestination_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/esmkit/esmkit/destination"
	"github.com/esmkit/esmkit/destination/driver"
	"github.com/esmkit/esmkit/destination/sqsdestination"
	"github.com/esmkit/esmkit/internal/testserver"
)

func record(t *testing.T) *destination.Invocation {
	t.Helper()
	at := time.Date(2024, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	return &destination.Invocation{
		Condition:                       destination.RetryAttemptsExhausted,
		ApproximateInvokeCount:          1,
		StatusCode:                      200,
		Timestamp:                       at,
		ShardID:                         "shardId-000000000000",
		StartSequenceNumber:             "1",
		EndSequenceNumber:               "2",
		ApproximateArrivalOfFirstRecord: at,
		ApproximateArrivalOfLastRecord:  at,
		BatchSize:                       2,
		StreamARN:                       "arn:aws:kinesis:us-east-1:000000000000:stream/s",
	}
}

func TestNewInvalid(t *testing.T) {
	c := sqs.New(sqs.Options{Region: testserver.Region})
	if _, err := sqsdestination.New(nil, "http://q"); err == nil {
		t.Error("New(nil client): got nil error")
	}
	if _, err := sqsdestination.New(c, ""); err == nil {
		t.Error("New(empty URL): got nil error")
	}
	for _, arn := range []string{"", "dlq", "arn:aws:sns:us-east-1:123456789012:dlq", "arn:aws:sqs:us-east-1::dlq", "arn:aws:sqs:us-east-1:123456789012:"} {
		if _, err := sqsdestination.NewFromARN(t.Context(), c, arn); err == nil {
			t.Errorf("NewFromARN(%q): got nil error", arn)
		}
	}
}

// TestNewFromARN looks a queue up by the ARN Lambda's DestinationConfig
// would name, and sends to it.
func TestNewFromARN(t *testing.T) {
	ctx := t.Context()
	c := newClient(t)
	url, _ := createQueue(t, c, false)
	attrs, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       &url,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatal(err)
	}
	arn := attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	q, err := sqsdestination.NewFromARN(ctx, c, arn)
	if err != nil {
		t.Fatalf("NewFromARN(%s): %v", arn, err)
	}
	dst, err := destination.New(q)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if err := dst.Send(ctx, record(t)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	got, err := receive(rctx, c, url, 1)
	if err != nil || len(got) != 1 {
		t.Fatalf("got %d messages, %v, want 1", len(got), err)
	}
	want, _ := destination.MarshalRecord(record(t))
	if string(got[0].Body) != string(want) {
		t.Errorf("got %s, want %s", got[0].Body, want)
	}

	if _, err := sqsdestination.NewFromARN(ctx, c, arn+"-missing"); err == nil {
		t.Error("NewFromARN of a missing queue: got nil error")
	}
}

// TestFIFOQueueFails checks that a FIFO queue, which Lambda does not
// support as a destination, fails at Send with an error not retried.
func TestFIFOQueueFails(t *testing.T) {
	c := newClient(t)
	url, _ := createQueue(t, c, true)
	q, err := sqsdestination.New(c, url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := destination.MarshalRecord(record(t))
	err = q.Send(t.Context(), &driver.Message{Body: body})
	if err == nil {
		t.Fatal("Send to a FIFO queue: got nil error")
	}
	if q.IsRetryable(err) {
		t.Errorf("IsRetryable(%v) = true, want false", err)
	}
	t.Logf("FIFO queue error: %v", err)
}

// faultClient answers the first calls with canned HTTP responses, then
// passes calls to the real server.
type faultClient struct {
	next *testserver.HTTPClient

	mu     sync.Mutex // protects faults and calls
	faults []fault
	calls  int
}

type fault struct {
	status int
	header http.Header
	body   string
}

func (c *faultClient) Do(req *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.calls++
	var f *fault
	if len(c.faults) > 0 {
		f = &c.faults[0]
		c.faults = c.faults[1:]
	}
	c.mu.Unlock()
	if f == nil {
		return c.next.Do(req)
	}
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	h := f.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	return &http.Response{
		StatusCode: f.status, Status: http.StatusText(f.status), Header: h,
		Body: io.NopCloser(strings.NewReader(f.body)), ContentLength: int64(len(f.body)),
		Request: req, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
	}, nil
}

var jsonHeader = http.Header{"Content-Type": {"application/x-amz-json-1.0"}}

// TestErrorClassification checks IsRetryable on errors as the SDK decodes
// them from SQS responses: throttling and 5xx are retryable, client
// errors are not.
func TestErrorClassification(t *testing.T) {
	tests := []struct {
		name     string
		fault    fault
		wantCode string
		want     bool
	}{
		{"503 no body", fault{status: 503}, "", true},
		{"500 InternalError", fault{500, jsonHeader, `{"__type":"com.amazonaws.sqs#InternalError","message":"oops"}`}, "InternalError", true},
		{"400 RequestThrottled", fault{400, jsonHeader, `{"__type":"com.amazonaws.sqs#RequestThrottled","message":"slow down"}`}, "RequestThrottled", true},
		{"400 ThrottlingException", fault{400, jsonHeader, `{"__type":"com.amazonaws.sqs#ThrottlingException","message":"slow down"}`}, "ThrottlingException", true},
		{"400 KmsThrottled", fault{400, jsonHeader, `{"__type":"com.amazonaws.sqs#KmsThrottled","message":"kms"}`}, "KmsThrottled", true},
		{"400 QueueDoesNotExist", fault{400, jsonHeader, `{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"no queue"}`}, "QueueDoesNotExist", false},
		{"403 AccessDenied", fault{403, jsonHeader, `{"__type":"com.amazonaws.sqs#AccessDeniedException","message":"no"}`}, "AccessDeniedException", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fc := &faultClient{next: testserver.NewHTTPClient(), faults: []fault{tc.fault}}
			c := newClient(t, func(o *sqs.Options) { o.HTTPClient = fc; o.RetryMaxAttempts = 1 })
			q, err := sqsdestination.New(c, "http://127.0.0.1/000000000000/any")
			if err != nil {
				t.Fatal(err)
			}
			err = q.Send(t.Context(), &driver.Message{Body: []byte("{}")})
			if err == nil {
				t.Fatal("got nil error")
			}
			var ae smithy.APIError
			if tc.wantCode != "" && (!errors.As(err, &ae) || ae.ErrorCode() != tc.wantCode) {
				t.Errorf("got %v, want error code %s", err, tc.wantCode)
			}
			if got := q.IsRetryable(err); got != tc.want {
				t.Errorf("IsRetryable(%v) = %v, want %v", err, got, tc.want)
			}
		})
	}
}

// TestRetriesThroughSDK checks the portable retry policy end to end: two
// throttled responses, then the real server; one message arrives.
func TestRetriesThroughSDK(t *testing.T) {
	throttled := fault{400, jsonHeader, `{"__type":"com.amazonaws.sqs#RequestThrottled","message":"slow down"}`}
	fc := &faultClient{next: testserver.NewHTTPClient(), faults: []fault{throttled, {status: 503}}}
	c := newClient(t, func(o *sqs.Options) { o.HTTPClient = fc; o.RetryMaxAttempts = 1 })
	url, _ := createQueue(t, newClient(t), false)
	q, err := sqsdestination.New(c, url)
	if err != nil {
		t.Fatal(err)
	}
	dst, err := destination.New(q)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if err := dst.Send(t.Context(), record(t)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	fc.mu.Lock()
	calls := fc.calls
	fc.mu.Unlock()
	if calls != 3 {
		t.Errorf("got %d HTTP calls, want 3", calls)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	if got, err := receive(ctx, newClient(t), url, 2); err != nil || len(got) != 1 {
		t.Errorf("got %d messages, %v, want 1", len(got), err)
	}
}
