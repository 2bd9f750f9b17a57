package esm_test

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/esmkit/esmkit/destination"
	"github.com/esmkit/esmkit/destination/driver"
	"github.com/esmkit/esmkit/destination/s3destination"
	"github.com/esmkit/esmkit/destination/snsdestination"
	"github.com/esmkit/esmkit/destination/sqsdestination"
	"github.com/esmkit/esmkit/esm"
	"github.com/esmkit/esmkit/internal/testserver"
	"github.com/esmkit/esmkit/internal/uuid"
	"github.com/esmkit/esmkit/kinesistest"
)

// These tests send a poison record's on-failure record through a real local
// SQS, SNS or S3 server (fauxqs) and read back what arrived: the exact
// document Lambda writes, while every other record of the shard is
// processed once, in order.

var fauxCreds = credentials.NewStaticCredentialsProvider("AKIDTESTSERVER", "testserver-secret", "")

func sqsClient(t *testing.T) *sqs.Client {
	ep := testserver.SQS(t)
	return sqs.New(sqs.Options{Region: testserver.Region, BaseEndpoint: &ep, Credentials: fauxCreds, HTTPClient: testserver.NewHTTPClient()})
}

func newQueue(t *testing.T, c *sqs.Client) (url, arn string) {
	t.Helper()
	name := fmt.Sprintf("esm-poison-%016x", rand.Uint64())
	q, err := c.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: &name})
	if err != nil {
		t.Fatalf("CreateQueue: %v", err)
	}
	a, err := c.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatalf("GetQueueAttributes: %v", err)
	}
	return *q.QueueUrl, a.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
}

func receiveOne(t *testing.T, c *sqs.Client, url string) []byte {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		out, err := c.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatalf("ReceiveMessage: %v", err)
		}
		if len(out.Messages) > 1 {
			t.Fatalf("got %d messages, want 1", len(out.Messages))
		}
		if len(out.Messages) == 1 {
			return []byte(aws.ToString(out.Messages[0].Body))
		}
	}
	t.Fatal("no message arrived")
	return nil
}

// poisonRun runs 20 records, of which the 8th always fails, with bisect on
// and one retry, sending on-failure records to d. It returns the poison
// record and checks every other record was delivered once, in order.
func poisonRun(t *testing.T, d *destination.Destination) (poison rec, arn string) {
	t.Helper()
	kc := kinesistest.New()
	arn = createStream(t, kc, "poison", 1)
	recs := makeRecs("p", 20, 1)
	put(t, kc, "poison", recs)
	poison = recs[7]
	c := newCollector(len(recs) - 1)
	c.fail = func(_ int, ev events.KinesisEvent) error {
		for _, r := range ev.Records {
			if r.Kinesis.SequenceNumber == poison.Seq {
				return errBoom
			}
		}
		return nil
	}
	stop := run(t, newMapping(t, kc, arn, c.handle, esm.StartingPosition(esm.TrimHorizon), esm.BatchSize(20),
		esm.BisectBatchOnFunctionError(true), esm.MaximumRetryAttempts(1), esm.RetryBackoff(time.Millisecond, 10*time.Millisecond),
		esm.OnFailure(d), esm.FunctionARN(fnARN), esm.Name("poison-mapping")))
	c.wait(t, time.Minute)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	checkExactlyOnceInOrder(t, c.records(), append(append([]rec(nil), recs[:7]...), recs[8:]...))
	return poison, arn
}

// checkDocument asserts body is exactly Lambda's document for the poison
// record. RequestID and Timestamp are taken from body: they are random and
// the time of the discard.
func checkDocument(t *testing.T, body []byte, poison rec, streamARN, mappingUUID string, withPayload bool) {
	t.Helper()
	got, err := destination.Unmarshal(body)
	if err != nil {
		t.Fatalf("Unmarshal %s: %v", body, err)
	}
	if got.Condition != destination.RetryAttemptsExhausted || got.BatchSize != 1 || got.ApproximateInvokeCount < 2 ||
		got.StartSequenceNumber != poison.Seq || got.EndSequenceNumber != poison.Seq || got.ShardID != poison.ShardID ||
		got.StreamARN != streamARN || got.FunctionARN != fnARN || got.FunctionError != "Unhandled" || got.RequestID == "" {
		t.Errorf("document %s does not describe the poison record %s", body, poison.Seq)
	}
	want := *got
	want.MappingUUID = mappingUUID
	marshal := destination.MarshalRecord
	if withPayload {
		marshal = destination.MarshalObject
		if n := len(got.Event.Records); n != 1 || string(got.Event.Records[0].Kinesis.Data) != poison.Data {
			t.Errorf("payload holds %d records, want the poison record", n)
		}
	}
	wantBody, err := marshal(&want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(body, wantBody) {
		t.Errorf("document:\ngot  %s\nwant %s", body, wantBody)
	}
}

func TestPoisonRecordToSQS(t *testing.T) {
	qc := sqsClient(t)
	url, _ := newQueue(t, qc)
	drv, err := sqsdestination.New(qc, url)
	if err != nil {
		t.Fatal(err)
	}
	d := mustDestination(t, drv)
	poison, arn := poisonRun(t, d)
	checkDocument(t, receiveOne(t, qc, url), poison, arn, "", false)
}

func TestPoisonRecordToSNS(t *testing.T) {
	ep := testserver.SNS(t)
	sc := sns.New(sns.Options{Region: testserver.Region, BaseEndpoint: &ep, Credentials: fauxCreds, HTTPClient: testserver.NewHTTPClient()})
	qc := sqsClient(t)
	topic, err := sc.CreateTopic(t.Context(), &sns.CreateTopicInput{Name: aws.String(fmt.Sprintf("esm-poison-%016x", rand.Uint64()))})
	if err != nil {
		t.Fatalf("CreateTopic: %v", err)
	}
	url, queueARN := newQueue(t, qc)
	if _, err := sc.Subscribe(t.Context(), &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: &queueARN,
		Attributes: map[string]string{"RawMessageDelivery": "true"}}); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	drv, err := snsdestination.New(sc, *topic.TopicArn)
	if err != nil {
		t.Fatal(err)
	}
	poison, arn := poisonRun(t, mustDestination(t, drv))
	checkDocument(t, receiveOne(t, qc, url), poison, arn, "", false)
}

func TestPoisonRecordToS3(t *testing.T) {
	ep := testserver.S3(t)
	c := s3.New(s3.Options{Region: testserver.Region, BaseEndpoint: &ep, Credentials: fauxCreds, HTTPClient: testserver.NewHTTPClient(), UsePathStyle: true})
	bucket := fmt.Sprintf("esm-poison-%016x", rand.Uint64())
	if _, err := c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	drv, err := s3destination.New(c, bucket)
	if err != nil {
		t.Fatal(err)
	}
	poison, arn := poisonRun(t, mustDestination(t, drv))
	list, err := c.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: &bucket})
	if err != nil {
		t.Fatalf("ListObjectsV2: %v", err)
	}
	if len(list.Contents) != 1 {
		t.Fatalf("got %d objects, want 1", len(list.Contents))
	}
	key := aws.ToString(list.Contents[0].Key)
	prefix := "aws/lambda/"
	if !strings.HasPrefix(key, prefix) || !strings.Contains(key, "/"+poison.ShardID+"/") {
		t.Errorf("object key %q, want aws/lambda/<uuid>/%s/YYYY/MM/DD/…", key, poison.ShardID)
	}
	obj, err := c.GetObject(t.Context(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	defer obj.Body.Close()
	body, err := io.ReadAll(obj.Body)
	if err != nil {
		t.Fatal(err)
	}
	mappingUUID := strings.Split(key, "/")[2]
	if want := uuid.FromName("poison-mapping"); mappingUUID != want {
		t.Errorf("object key %q names mapping %q, want %q", key, mappingUUID, want)
	}
	checkDocument(t, body, poison, arn, mappingUUID, true)
}

func mustDestination(t *testing.T, drv driver.Destination) *destination.Destination {
	t.Helper()
	d, err := destination.New(drv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}
