package kinesistest_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/esmkit/esmkit/kinesistest"
)

func ExampleClient() {
	ctx := context.Background()
	c := kinesistest.New()
	arn, err := c.AddStream("orders", 2)
	if err != nil {
		panic(err)
	}
	for _, id := range []string{"order-1", "order-2", "order-3"} {
		if _, err := c.PutRecord(ctx, &kinesis.PutRecordInput{
			StreamARN: &arn, PartitionKey: &id, Data: []byte("created " + id),
		}); err != nil {
			panic(err)
		}
	}

	shards, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamARN: &arn})
	if err != nil {
		panic(err)
	}
	for _, s := range shards.Shards {
		it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
			StreamARN: &arn, ShardId: s.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			panic(err)
		}
		out, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
		if err != nil {
			panic(err)
		}
		for _, r := range out.Records {
			fmt.Printf("%s: %s\n", *s.ShardId, r.Data)
		}
	}
	// Output:
	// shardId-000000000000: created order-1
	// shardId-000000000000: created order-2
	// shardId-000000000001: created order-3
}

func ExampleClient_Inject() {
	ctx := context.Background()
	c := kinesistest.New()
	arn, _ := c.AddStream("orders", 1)
	// Every second ListShards call is throttled.
	c.Inject("ListShards", kinesistest.Every(2), kinesistest.Throttling())

	for range 3 {
		_, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamARN: &arn})
		var throttled *types.ProvisionedThroughputExceededException
		fmt.Println(errors.As(err, &throttled))
	}
	fmt.Println(c.Calls("ListShards"), "calls")
	// Output:
	// false
	// true
	// false
	// 3 calls
}
