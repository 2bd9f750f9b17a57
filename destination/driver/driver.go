// Package driver defines the interface destination drivers implement.
//
// Users do not call a driver directly: they pass one to destination.New and
// use the portable *destination.Destination, which owns every policy —
// validating the invocation record, building Lambda's document and the S3
// object key, retries, error wrapping and Close. A driver owns exactly one
// thing: delivering one prepared message per call and reporting what
// happened, so that a new destination is small and every destination behaves
// alike. The conformance suite in destination/destinationtest states the
// contract as tests; every driver must pass it.
package driver

import (
	"context"
	"strconv"
)

// Format says which of Lambda's documents a driver delivers. The portable
// type asks once, in destination.New, and prepares every Message to match.
type Format int

const (
	// Metadata is the invocation record without record data, as Lambda
	// sends it to SQS queues and SNS topics: requestContext,
	// responseContext, version, timestamp and KinesisBatchInfo. The
	// Message has an empty Key.
	Metadata Format = iota + 1

	// MetadataWithPayload is the same record plus "payload", the invocation
	// event as a JSON string, as Lambda writes it to S3 buckets. The
	// Message's Key is Lambda's object key,
	// aws/lambda/<mapping-uuid>/<shardId>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>.
	MetadataWithPayload
)

// String returns the constant's name, or "Format(n)" for other values.
func (f Format) String() string {
	switch f {
	case Metadata:
		return "Metadata"
	case MetadataWithPayload:
		return "MetadataWithPayload"
	}
	return "Format(" + strconv.Itoa(int(f)) + ")"
}

// Message is one prepared invocation record, ready to deliver.
//
// The portable type builds a new Message for each delivery and does not
// modify it while Send runs; a driver must not modify it either, and must
// not retain Body after Send returns (the portable type may reuse it for a
// retry of the same record, which must deliver the same bytes).
type Message struct {
	// Body is the JSON document, in the Format the driver reported. It is
	// valid UTF-8 and never empty. Drivers deliver it unchanged: as the
	// SQS message body, the SNS message, or the S3 object's content.
	Body []byte

	// Key is the object key for MetadataWithPayload drivers, and "" for
	// Metadata drivers. It is unique per delivery (it ends in a random
	// UUID); a retry of one delivery reuses its Key, so a retry after a
	// write that succeeded but reported an error overwrites the same
	// object rather than making a second one.
	Key string
}

// Destination is the interface a destination driver implements.
//
// Send performs one delivery. It does not retry and does not wrap errors:
// it returns the service's own error, and the portable type classifies it
// with IsRetryable. Every method must be safe for concurrent use by
// multiple goroutines.
//
// The portable type never calls a method after Close.
type Destination interface {
	// Format reports which document Send expects. It must return the
	// same value every time; the portable type calls it once.
	Format() Format

	// Send delivers msg once: an SQS SendMessage, an SNS Publish, an S3
	// PutObject. When Send returns nil the message is durably accepted by
	// the service and a consumer will see it exactly as sent (Body
	// byte-for-byte, under Key for object stores).
	//
	// Send must honour ctx: when ctx is done it returns promptly with an
	// error (which may or may not wrap ctx.Err()). A Send that fails may
	// or may not have delivered msg, as with any network call; the portable
	// type's retries may therefore deliver a record twice, which Lambda's
	// at-least-once delivery allows.
	//
	// A destination that cannot accept the message at all — a FIFO queue
	// or topic (Lambda's destinations are standard queues and topics only),
	// a missing queue, topic or bucket, denied access — returns the
	// service's error; it does not check in advance.
	Send(ctx context.Context, msg *Message) error

	// IsRetryable reports whether err, returned by Send, is transient
	// (throttling, a timeout, a 5xx response, a dropped connection) so that
	// the same Send may succeed if repeated. The portable type retries such
	// errors with a bounded, jittered backoff. It returns false for nil,
	// and for errors caused by ctx being done.
	IsRetryable(err error) bool

	// Close releases the driver's resources. It does not close clients the
	// user passed to the driver's constructor. The portable type calls it
	// once.
	Close() error
}
