package sqsdestination_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/esmkit/esmkit/destination/destinationtest"
	"github.com/esmkit/esmkit/destination/driver"
	"github.com/esmkit/esmkit/destination/sqsdestination"
	"github.com/esmkit/esmkit/internal/testserver"
)

func TestMain(m *testing.M) { os.Exit(testserver.Main(m)) }

// newClient returns an SQS client for the local fauxqs server.
func newClient(t *testing.T, optFns ...func(*sqs.Options)) *sqs.Client {
	t.Helper()
	endpoint := testserver.SQS(t)
	return sqs.New(sqs.Options{
		Region:       testserver.Region,
		BaseEndpoint: &endpoint,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTESTSERVER", "testserver-secret", ""),
		HTTPClient:   testserver.NewHTTPClient(),
	}, optFns...)
}

// createQueue makes a queue with a name no other test uses and returns its
// URL and name.
func createQueue(t *testing.T, c *sqs.Client, fifo bool) (url, name string) {
	t.Helper()
	name = fmt.Sprintf("destinationtest-%016x", rand.Uint64())
	in := &sqs.CreateQueueInput{QueueName: &name}
	if fifo {
		name += ".fifo"
		in.Attributes = map[string]string{"FifoQueue": "true"}
	}
	out, err := c.CreateQueue(t.Context(), in)
	if err != nil {
		t.Fatalf("CreateQueue %s: %v", name, err)
	}
	return *out.QueueUrl, name
}

// harness reads back from one fresh queue.
type harness struct {
	client   *sqs.Client
	queueURL string
	name     string
}

func (h *harness) MakeDestination(context.Context) (driver.Destination, error) {
	return sqsdestination.New(h.client, h.queueURL)
}

func (h *harness) MakeMissingDestination(context.Context) (driver.Destination, error) {
	return sqsdestination.New(h.client, strings.TrimSuffix(h.queueURL, h.name)+"missing-"+h.name)
}

func (h *harness) Received(ctx context.Context, n int) ([]driver.Message, error) {
	return receive(ctx, h.client, h.queueURL, n)
}

func (*harness) ReportsKeys() bool { return false }
func (*harness) Close()            {}

// receive reads and deletes messages from queueURL until n have arrived
// or ctx is done. Calls use a context that is not canceled, so a message
// in a response is never lost to a cancellation; ctx only stops the loop.
func receive(ctx context.Context, c *sqs.Client, queueURL string, n int) ([]driver.Message, error) {
	var got []driver.Message
	callCtx := context.WithoutCancel(ctx)
	for len(got) < n && ctx.Err() == nil {
		var wait int32
		if dl, ok := ctx.Deadline(); !ok || time.Until(dl) >= time.Second {
			wait = 1
		}
		out, err := c.ReceiveMessage(callCtx, &sqs.ReceiveMessageInput{
			QueueUrl:            &queueURL,
			MaxNumberOfMessages: 10,
			WaitTimeSeconds:     wait,
			VisibilityTimeout:   60,
		})
		if err != nil {
			return got, fmt.Errorf("ReceiveMessage: %w", err)
		}
		for _, m := range out.Messages {
			got = append(got, driver.Message{Body: []byte(*m.Body)})
			if _, err := c.DeleteMessage(callCtx, &sqs.DeleteMessageInput{QueueUrl: &queueURL, ReceiptHandle: m.ReceiptHandle}); err != nil {
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

func TestConformance(t *testing.T) {
	destinationtest.Run(t, func(_ context.Context, t *testing.T) (destinationtest.Harness, error) {
		c := newClient(t)
		url, name := createQueue(t, c, false)
		return &harness{client: c, queueURL: url, name: name}, nil
	})
}
