package destination

import (
	"context"
	"strings"

	"github.com/esmkit/esmkit/destination/driver"
)

// Func is a driver that calls a Go function with each invocation record,
// like http.HandlerFunc: destination.New(destination.Func(f)). It is for
// tests, and for programs that keep discarded batches somewhere without an
// AWS driver (a log, a database, a channel).
//
// Func delivers the S3 document, so f sees everything an S3 destination
// would store, including the discarded records in Event and MappingUUID.
// Each call gets a fresh *Invocation parsed from that document (see
// Unmarshal), which f may keep: what f sees is exactly what a consumer of an
// S3 destination would read back. Times therefore have millisecond
// precision, and those of the record are in UTC.
//
// f is called once per attempt and may be called concurrently. It must
// honour ctx. Errors from f are not retried (IsRetryable reports false):
// retry inside f if that is wanted. Send does not call f when ctx is already
// done.
type Func func(ctx context.Context, inv *Invocation) error

var _ driver.Destination = Func(nil)

// Format reports driver.MetadataWithPayload.
func (Func) Format() driver.Format { return driver.MetadataWithPayload }

// Send parses msg and calls f with the result. It returns an error wrapping
// ErrInvalidInvocation if msg is not a document MarshalObject makes.
func (f Func) Send(ctx context.Context, msg *driver.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	inv, err := Unmarshal(msg.Body)
	if err != nil {
		return err
	}
	inv.MappingUUID = mappingFromKey(msg.Key)
	return f(ctx, inv)
}

// IsRetryable reports false: Func does not ask for retries.
func (Func) IsRetryable(error) bool { return false }

// Close does nothing and returns nil.
func (Func) Close() error { return nil }

// mappingFromKey returns the mapping UUID of an object key made by
// objectKey, or "" if key has another form.
func mappingFromKey(key string) string {
	rest, ok := strings.CutPrefix(key, "aws/lambda/")
	if !ok {
		return ""
	}
	uuid, _, _ := strings.Cut(rest, "/")
	return uuid
}
