package kinesistest_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/esmkit/esmkit/kinesistest"
)

// A real *kinesis.Client, as the program under test would make it, talks
// to the in-memory streams through a Server; faults injected into the
// Client reach it as the SDK's own errors.
func ExampleNewServer() {
	c := kinesistest.New()
	if _, err := c.AddStream("orders", 1); err != nil {
		panic(err)
	}
	c.Inject("PutRecord", kinesistest.FirstN(1), kinesistest.Throttling())
	srv := kinesistest.NewServer(c)
	defer srv.Close()

	k := kinesis.New(kinesis.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
		Retryer:      aws.NopRetryer{}, // show the throttle rather than retry it
	})
	ctx := context.Background()
	in := &kinesis.PutRecordInput{StreamName: aws.String("orders"), PartitionKey: aws.String("order-1"), Data: []byte("created")}
	_, err := k.PutRecord(ctx, in)
	var throttled *types.ProvisionedThroughputExceededException
	fmt.Println("throttled:", errors.As(err, &throttled))

	out, err := k.PutRecord(ctx, in)
	if err != nil {
		panic(err)
	}
	recs, err := c.Records("orders", *out.ShardId) // in process, the same stream
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s: %s\n", *out.ShardId, recs[0].Data)
	fmt.Println(c.Calls("PutRecord"), "calls")
	// Output:
	// throttled: true
	// shardId-000000000000: created
	// 2 calls
}
