package snsdestination_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"
	"github.com/esmkit/esmkit/destination"
	"github.com/esmkit/esmkit/destination/driver"
	"github.com/esmkit/esmkit/destination/snsdestination"
	"github.com/esmkit/esmkit/internal/testserver"
)

func body(t *testing.T) []byte {
	t.Helper()
	at := time.Date(2024, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	b, err := destination.MarshalRecord(&destination.Invocation{
		Condition:                       destination.RetryAttemptsExhausted,
		Timestamp:                       at,
		ShardID:                         "shardId-000000000000",
		StartSequenceNumber:             "1",
		EndSequenceNumber:               "1",
		ApproximateArrivalOfFirstRecord: at,
		ApproximateArrivalOfLastRecord:  at,
		BatchSize:                       1,
		StreamARN:                       "arn:aws:kinesis:us-east-1:000000000000:stream/s",
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNewInvalid(t *testing.T) {
	if _, err := snsdestination.New(nil, "arn:aws:sns:us-east-1:123456789012:t"); err == nil {
		t.Error("New(nil client): got nil error")
	}
	if _, err := snsdestination.New(sns.New(sns.Options{Region: testserver.Region}), ""); err == nil {
		t.Error("New(empty ARN): got nil error")
	}
}

// TestFIFOTopicFails checks that a FIFO topic, which Lambda does not
// support as a destination, fails at Send with an error not retried.
func TestFIFOTopicFails(t *testing.T) {
	sc, _ := newClients(t)
	tp, err := snsdestination.New(sc, createTopic(t, sc, true))
	if err != nil {
		t.Fatal(err)
	}
	err = tp.Send(t.Context(), &driver.Message{Body: body(t)})
	if err == nil {
		t.Fatal("Send to a FIFO topic: got nil error")
	}
	if tp.IsRetryable(err) {
		t.Errorf("IsRetryable(%v) = true, want false", err)
	}
	t.Logf("FIFO topic error: %v", err)
}

// cannedClient answers every call with one HTTP response.
type cannedClient struct {
	status int
	body   string
}

func (c cannedClient) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	return &http.Response{
		StatusCode: c.status, Status: http.StatusText(c.status),
		Header: http.Header{"Content-Type": {"text/xml"}},
		Body:   io.NopCloser(strings.NewReader(c.body)), ContentLength: int64(len(c.body)),
		Request: req, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
	}, nil
}

func queryError(typ, code string) string {
	return `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>` + typ + `</Type><Code>` + code +
		`</Code><Message>m</Message></Error><RequestId>r</RequestId></ErrorResponse>`
}

// TestErrorClassification checks IsRetryable on errors as the SDK decodes
// them from SNS (query protocol) responses.
func TestErrorClassification(t *testing.T) {
	tests := []struct {
		name   string
		status int
		code   string
		want   bool
	}{
		{"400 Throttled", 400, "Throttled", true},
		{"400 KMSThrottling", 400, "KMSThrottling", true},
		{"500 InternalError", 500, "InternalError", true},
		{"503 ServiceUnavailable", 503, "ServiceUnavailable", true},
		{"404 NotFound", 404, "NotFound", false},
		{"400 InvalidParameter", 400, "InvalidParameter", false},
		{"403 AuthorizationError", 403, "AuthorizationError", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			typ := "Sender"
			if tc.status >= 500 {
				typ = "Receiver"
			}
			sc, _ := newClients(t, func(o *sns.Options) {
				o.HTTPClient = cannedClient{tc.status, queryError(typ, tc.code)}
				o.RetryMaxAttempts = 1
			})
			tp, err := snsdestination.New(sc, "arn:aws:sns:us-east-1:000000000000:t")
			if err != nil {
				t.Fatal(err)
			}
			err = tp.Send(t.Context(), &driver.Message{Body: body(t)})
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tc.code {
				t.Fatalf("got %v, want error code %s", err, tc.code)
			}
			if got := tp.IsRetryable(err); got != tc.want {
				t.Errorf("IsRetryable(%v) = %v, want %v", err, got, tc.want)
			}
		})
	}
}
