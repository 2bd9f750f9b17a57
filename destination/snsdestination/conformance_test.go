package snsdestination_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/esmkit/esmkit/destination/destinationtest"
	"github.com/esmkit/esmkit/destination/driver"
	"github.com/esmkit/esmkit/destination/snsdestination"
	"github.com/esmkit/esmkit/internal/testserver"
)

func TestMain(m *testing.M) { os.Exit(testserver.Main(m)) }

var creds = credentials.NewStaticCredentialsProvider("AKIDTESTSERVER", "testserver-secret", "")

// newClients returns SNS and SQS clients for the local fauxqs server, which
// serves both on one port, so SNS delivers to its SQS queues.
func newClients(t *testing.T, optFns ...func(*sns.Options)) (*sns.Client, *sqs.Client) {
	t.Helper()
	snsEndpoint, sqsEndpoint := testserver.SNS(t), testserver.SQS(t)
	sc := sns.New(sns.Options{
		Region:       testserver.Region,
		BaseEndpoint: &snsEndpoint,
		Credentials:  creds,
		HTTPClient:   testserver.NewHTTPClient(),
	}, optFns...)
	qc := sqs.New(sqs.Options{
		Region:       testserver.Region,
		BaseEndpoint: &sqsEndpoint,
		Credentials:  creds,
		HTTPClient:   testserver.NewHTTPClient(),
	})
	return sc, qc
}

// createTopic makes a topic with a name no other test uses.
func createTopic(t *testing.T, c *sns.Client, fifo bool) (arn string) {
	t.Helper()
	name := fmt.Sprintf("destinationtest-%016x", rand.Uint64())
	in := &sns.CreateTopicInput{Name: &name}
	if fifo {
		name += ".fifo"
		in.Attributes = map[string]string{"FifoTopic": "true"}
	}
	out, err := c.CreateTopic(t.Context(), in)
	if err != nil {
		t.Fatalf("CreateTopic %s: %v", name, err)
	}
	return *out.TopicArn
}

// subscribeQueue makes a queue and subscribes it to topicARN with raw
// message delivery, so each message body is the published message.
func subscribeQueue(t *testing.T, sc *sns.Client, qc *sqs.Client, topicARN string) (queueURL string) {
	t.Helper()
	ctx := t.Context()
	name := fmt.Sprintf("destinationtest-%016x", rand.Uint64())
	q, err := qc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name})
	if err != nil {
		t.Fatalf("CreateQueue: %v", err)
	}
	attrs, err := qc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       q.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatalf("GetQueueAttributes: %v", err)
	}
	queueARN := attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	protocol := "sqs"
	if _, err := sc.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn:   &topicARN,
		Protocol:   &protocol,
		Endpoint:   &queueARN,
		Attributes: map[string]string{"RawMessageDelivery": "true"},
	}); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	return *q.QueueUrl
}

// harness publishes to one fresh topic and reads back from a queue
// subscribed to it.
type harness struct {
	sns      *sns.Client
	sqs      *sqs.Client
	topicARN string
	queueURL string
}

func (h *harness) MakeDestination(context.Context) (driver.Destination, error) {
	return snsdestination.New(h.sns, h.topicARN)
}

func (h *harness) MakeMissingDestination(context.Context) (driver.Destination, error) {
	i := strings.LastIndexByte(h.topicARN, ':')
	return snsdestination.New(h.sns, h.topicARN[:i+1]+"missing-"+h.topicARN[i+1:])
}

func (h *harness) Received(ctx context.Context, n int) ([]driver.Message, error) {
	var got []driver.Message
	callCtx := context.WithoutCancel(ctx) // see sqsdestination's harness
	for len(got) < n && ctx.Err() == nil {
		var wait int32
		if dl, ok := ctx.Deadline(); !ok || time.Until(dl) >= time.Second {
			wait = 1
		}
		out, err := h.sqs.ReceiveMessage(callCtx, &sqs.ReceiveMessageInput{
			QueueUrl:            &h.queueURL,
			MaxNumberOfMessages: 10,
			WaitTimeSeconds:     wait,
			VisibilityTimeout:   60,
		})
		if err != nil {
			return got, fmt.Errorf("ReceiveMessage: %w", err)
		}
		for _, m := range out.Messages {
			got = append(got, driver.Message{Body: []byte(*m.Body)})
			if _, err := h.sqs.DeleteMessage(callCtx, &sqs.DeleteMessageInput{QueueUrl: &h.queueURL, ReceiptHandle: m.ReceiptHandle}); err != nil {
				return got, fmt.Errorf("DeleteMessage: %w", err)
			}
		}
		if wait == 0 && len(out.Messages) == 0 {
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return got, nil
}

func (*harness) ReportsKeys() bool { return false }
func (*harness) Close()            {}

func TestConformance(t *testing.T) {
	destinationtest.Run(t, func(_ context.Context, t *testing.T) (destinationtest.Harness, error) {
		sc, qc := newClients(t)
		topic := createTopic(t, sc, false)
		return &harness{sns: sc, sqs: qc, topicARN: topic, queueURL: subscribeQueue(t, sc, qc, topic)}, nil
	})
}
