// Package snsdestination delivers invocation records to an Amazon SNS topic.
//
// A Topic is a destination/driver.Destination: pass it to destination.New.
// Each record is one Publish whose message is Lambda's invocation record
// (driver.Metadata), with no subject and no attributes.
//
//	t, err := snsdestination.New(sns.NewFromConfig(cfg), topicARN)
//	…
//	dst, err := destination.New(t)
//
// Lambda supports standard topics only. A FIFO topic fails at Send with the
// service's error (SNS requires a MessageGroupId), which is not retryable.
package snsdestination

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/esmkit/esmkit/destination/driver"
	"github.com/esmkit/esmkit/destination/internal/awserr"
)

// Client is the part of *sns.Client a Topic uses.
type Client interface {
	Publish(ctx context.Context, params *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Topic publishes invocation records to one SNS topic. It is safe for
// concurrent use. Create one with New.
type Topic struct {
	client   Client
	topicARN string
}

var _ driver.Destination = (*Topic)(nil)

// New returns a Topic that publishes to topicARN with client. It makes no
// call. It returns an error if client is nil or topicARN is empty.
func New(client Client, topicARN string) (*Topic, error) {
	if client == nil {
		return nil, errors.New("snsdestination: nil client")
	}
	if topicARN == "" {
		return nil, errors.New("snsdestination: empty topic ARN")
	}
	return &Topic{client: client, topicARN: topicARN}, nil
}

// Format reports driver.Metadata.
func (*Topic) Format() driver.Format { return driver.Metadata }

// Send publishes msg.Body as one message.
func (t *Topic) Send(ctx context.Context, msg *driver.Message) error {
	body := string(msg.Body)
	_, err := t.client.Publish(ctx, &sns.PublishInput{TopicArn: &t.topicARN, Message: &body})
	return err
}

// retryableCodes are SNS error codes, beyond the SDK's standard ones, that
// mean "try again later".
var retryableCodes = map[string]bool{
	"Throttled":          true,
	"KMSThrottling":      true,
	"InternalError":      true,
	"InternalFailure":    true,
	"ServiceUnavailable": true,
}

// IsRetryable reports whether err is throttling, a 5xx response or a
// connection error.
func (*Topic) IsRetryable(err error) bool { return awserr.IsRetryable(err, retryableCodes) }

// Close does nothing: the client belongs to the caller.
func (*Topic) Close() error { return nil }
