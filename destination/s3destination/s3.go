// Package s3destination delivers invocation records to an Amazon S3 bucket.
//
// A Bucket is a destination/driver.Destination: pass it to destination.New.
// Each record is one PutObject of Lambda's invocation record with its
// "payload" (driver.MetadataWithPayload), under Lambda's key
// aws/lambda/<mapping UUID>/<shard ID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>,
// with Content-Type application/json.
//
//	b, err := s3destination.New(s3.NewFromConfig(cfg), "my-bucket")
//	…
//	dst, err := destination.New(b)
//
// The body is sent from a bytes.Reader, which the SDK needs to sign a
// request over plain HTTP. Lambda needs s3:PutObject and s3:ListBucket on
// the bucket; this driver calls only PutObject.
package s3destination

import (
	"bytes"
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/esmkit/esmkit/destination/driver"
	"github.com/esmkit/esmkit/destination/internal/awserr"
)

// Client is the part of *s3.Client a Bucket uses.
type Client interface {
	PutObject(ctx context.Context, params *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// Bucket writes invocation records as objects in one S3 bucket. It is safe
// for concurrent use. Create one with New.
type Bucket struct {
	client Client
	bucket string
}

var _ driver.Destination = (*Bucket)(nil)

// New returns a Bucket that writes to the bucket named bucket with client.
// It makes no call. It returns an error if client is nil or bucket is
// empty. bucket is a name ("my-bucket"); an ARN (arn:aws:s3:::my-bucket),
// as Lambda's DestinationConfig has it, is accepted too.
func New(client Client, bucket string) (*Bucket, error) {
	if client == nil {
		return nil, errors.New("s3destination: nil client")
	}
	if name, ok := cutBucketARN(bucket); ok {
		bucket = name
	}
	if bucket == "" {
		return nil, errors.New("s3destination: empty bucket name")
	}
	return &Bucket{client: client, bucket: bucket}, nil
}

// cutBucketARN returns the bucket name of arn:<partition>:s3:::<name>.
func cutBucketARN(s string) (string, bool) {
	if !strings.HasPrefix(s, "arn:") {
		return "", false
	}
	_, name, ok := strings.Cut(s, ":s3:::")
	return name, ok
}

// Format reports driver.MetadataWithPayload.
func (*Bucket) Format() driver.Format { return driver.MetadataWithPayload }

// Send writes msg.Body as the object msg.Key.
func (b *Bucket) Send(ctx context.Context, msg *driver.Message) error {
	contentType := "application/json"
	length := int64(len(msg.Body))
	_, err := b.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        &b.bucket,
		Key:           &msg.Key,
		Body:          bytes.NewReader(msg.Body),
		ContentLength: &length,
		ContentType:   &contentType,
	})
	return err
}

// retryableCodes are S3 error codes, beyond the SDK's standard ones, that
// mean "try again later".
var retryableCodes = map[string]bool{
	"InternalError":      true,
	"ServiceUnavailable": true,
	"SlowDown":           true,
	"RequestTimeout":     true,
}

// IsRetryable reports whether err is throttling (SlowDown), a 5xx response
// or a connection error.
func (*Bucket) IsRetryable(err error) bool { return awserr.IsRetryable(err, retryableCodes) }

// Close does nothing: the client belongs to the caller.
func (*Bucket) Close() error { return nil }
