// Package awserr classifies AWS SDK errors as transient or not for the
// destination drivers.
package awserr

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// sdkRetryables are the checks of the SDK's standard retryer: connection
// errors, 500/502/503/504, timeouts and the throttling error codes common
// to AWS services.
var sdkRetryables = retry.IsErrorRetryables(append([]retry.IsErrorRetryable(nil), retry.DefaultRetryables...))

// IsRetryable reports whether err, returned by an AWS SDK call, is
// transient: whatever the SDK's standard retryer retries, an HTTP 429 or
// 5xx response, an error with a server fault, or an API error whose code is
// in codes (service-specific throttling codes). It reports false for nil
// and for errors caused by a done context: retrying with the same context
// cannot succeed.
func IsRetryable(err error, codes map[string]bool) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if sdkRetryables.IsErrorRetryable(err) == aws.TrueTernary {
		return true
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		if s := re.HTTPStatusCode(); s == 429 || s >= 500 {
			return true
		}
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return codes[ae.ErrorCode()] || ae.ErrorFault() == smithy.FaultServer
	}
	return false
}
