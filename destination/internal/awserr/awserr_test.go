package awserr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func responseError(status int, err error) error {
	return &smithy.OperationError{ServiceID: "SQS", OperationName: "SendMessage", Err: &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err},
		RequestID:     "req-1",
	}}
}

func TestIsRetryable(t *testing.T) {
	codes := map[string]bool{"KMSThrottling": true}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"canceled", context.Canceled, false},
		{"deadline", fmt.Errorf("op: %w", context.DeadlineExceeded), false},
		{"canceled in an operation error", responseError(0, context.Canceled), false},
		{"plain error", errors.New("boom"), false},
		{"400 client error", responseError(400, &smithy.GenericAPIError{Code: "InvalidParameterValue", Fault: smithy.FaultClient}), false},
		{"400 queue missing", responseError(400, &smithy.GenericAPIError{Code: "AWS.SimpleQueueService.NonExistentQueue"}), false},
		{"403 access denied", responseError(403, &smithy.GenericAPIError{Code: "AccessDenied"}), false},
		{"404 no bucket", responseError(404, &smithy.GenericAPIError{Code: "NoSuchBucket"}), false},
		{"400 ThrottlingException", responseError(400, &smithy.GenericAPIError{Code: "ThrottlingException"}), true},
		{"400 RequestThrottled", responseError(400, &smithy.GenericAPIError{Code: "RequestThrottled"}), true},
		{"503 SlowDown", responseError(503, &smithy.GenericAPIError{Code: "SlowDown"}), true},
		{"service-specific code", responseError(400, &smithy.GenericAPIError{Code: "KMSThrottling"}), true},
		{"429 unknown code", responseError(429, &smithy.GenericAPIError{Code: "Whatever"}), true},
		{"500", responseError(500, &smithy.GenericAPIError{Code: "InternalError"}), true},
		{"501 not implemented", responseError(501, errors.New("x")), true},
		{"server fault without status", &smithy.GenericAPIError{Code: "InternalFailure", Fault: smithy.FaultServer}, true},
		{"connection refused", &url.Error{Op: "Post", URL: "http://127.0.0.1:1", Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}}, true},
		{"connection reset", fmt.Errorf("read: %w", errors.New("connection reset by peer")), true},
		{"unexpected EOF", &url.Error{Op: "Post", URL: "http://x", Err: io.ErrUnexpectedEOF}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsRetryable(tc.err, codes); got != tc.want {
				t.Errorf("IsRetryable(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}
