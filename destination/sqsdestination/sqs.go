// Package sqsdestination delivers invocation records to an Amazon SQS queue.
//
// A Queue is a destination/driver.Destination: pass it to destination.New.
// Each record is one SendMessage whose body is Lambda's invocation record
// (driver.Metadata), with no message attributes (AWS documents none).
//
//	q, err := sqsdestination.New(sqs.NewFromConfig(cfg), queueURL)
//	…
//	dst, err := destination.New(q)
//
// Lambda supports standard queues only. A FIFO queue fails at Send with the
// service's error (SQS requires a MessageGroupId), which is not retryable.
package sqsdestination

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/esmkit/esmkit/destination/driver"
	"github.com/esmkit/esmkit/destination/internal/awserr"
)

// Client is the part of *sqs.Client a Queue uses.
type Client interface {
	SendMessage(ctx context.Context, params *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// URLClient is the part of *sqs.Client NewFromARN uses.
type URLClient interface {
	Client
	GetQueueUrl(ctx context.Context, params *sqs.GetQueueUrlInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
}

// Queue sends invocation records to one SQS queue. It is safe for
// concurrent use. Create one with New or NewFromARN.
type Queue struct {
	client   Client
	queueURL string
}

var _ driver.Destination = (*Queue)(nil)

// New returns a Queue that sends to the queue at queueURL with client. It
// makes no call. It returns an error if client is nil or queueURL is empty.
func New(client Client, queueURL string) (*Queue, error) {
	if client == nil {
		return nil, errors.New("sqsdestination: nil client")
	}
	if queueURL == "" {
		return nil, errors.New("sqsdestination: empty queue URL")
	}
	return &Queue{client: client, queueURL: queueURL}, nil
}

// NewFromARN returns a Queue for the queue with the given ARN, as Lambda's
// DestinationConfig names it (arn:aws:sqs:us-east-2:123456789012:dlq): it
// looks up the queue's URL with GetQueueUrl, once, using the ARN's queue
// name and account. The client's region must be the queue's.
func NewFromARN(ctx context.Context, client URLClient, queueARN string) (*Queue, error) {
	if client == nil {
		return nil, errors.New("sqsdestination: nil client")
	}
	account, name, err := parseARN(queueARN)
	if err != nil {
		return nil, err
	}
	out, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: &name, QueueOwnerAWSAccountId: &account})
	if err != nil {
		return nil, fmt.Errorf("sqsdestination: queue URL of %s: %w", queueARN, err)
	}
	if out.QueueUrl == nil || *out.QueueUrl == "" {
		return nil, fmt.Errorf("sqsdestination: queue URL of %s: empty response", queueARN)
	}
	return New(client, *out.QueueUrl)
}

// parseARN splits arn:<partition>:sqs:<region>:<account>:<name>.
func parseARN(arn string) (account, name string, err error) {
	parts := strings.Split(arn, ":")
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sqs" || parts[4] == "" || parts[5] == "" {
		return "", "", fmt.Errorf("sqsdestination: %q is not an SQS queue ARN (arn:aws:sqs:<region>:<account>:<name>)", arn)
	}
	return parts[4], parts[5], nil
}

// Format reports driver.Metadata.
func (*Queue) Format() driver.Format { return driver.Metadata }

// Send sends msg.Body as one message.
func (q *Queue) Send(ctx context.Context, msg *driver.Message) error {
	body := string(msg.Body)
	_, err := q.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &q.queueURL, MessageBody: &body})
	return err
}

// retryableCodes are SQS error codes, beyond the SDK's standard ones, that
// mean "try again later".
var retryableCodes = map[string]bool{
	"KmsThrottled":                            true, // SSE-KMS queue, KMS throttled
	"RequestThrottled":                        true,
	"ServiceUnavailable":                      true,
	"InternalError":                           true,
	"AWS.SimpleQueueService.RequestThrottled": true,
}

// IsRetryable reports whether err is throttling, a 5xx response or a
// connection error.
func (*Queue) IsRetryable(err error) bool { return awserr.IsRetryable(err, retryableCodes) }

// Close does nothing: the client belongs to the caller.
func (*Queue) Close() error { return nil }
