package kinesistest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/esmkit/esmkit/kinesistest"
)

// BenchmarkGetRecords reads limit records of 100 bytes from the start of a
// shard holding 10,000.
func BenchmarkGetRecords(b *testing.B) {
	ctx := context.Background()
	c := kinesistest.New()
	if _, err := c.AddStream(stream, 1); err != nil {
		b.Fatal(err)
	}
	entries := make([]types.PutRecordsRequestEntry, 500)
	for i := range entries {
		entries[i] = types.PutRecordsRequestEntry{PartitionKey: ptr(fmt.Sprint("key-", i)), Data: make([]byte, 100)}
	}
	for range 20 {
		if _, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: ptr(stream), Records: entries}); err != nil {
			b.Fatal(err)
		}
	}
	it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
		StreamName: ptr(stream), ShardId: ptr("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, limit := range []int32{100, 1000, 10000} {
		b.Run(fmt.Sprint("limit=", limit), func(b *testing.B) {
			b.ReportAllocs()
			in := &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator, Limit: &limit}
			for b.Loop() {
				out, err := c.GetRecords(ctx, in)
				if err != nil {
					b.Fatal(err)
				}
				if len(out.Records) != int(limit) {
					b.Fatalf("got %d records, want %d", len(out.Records), limit)
				}
			}
			b.ReportMetric(float64(b.N)*float64(limit)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkPutRecords writes batches of 500 records of 100 bytes.
func BenchmarkPutRecords(b *testing.B) {
	for _, shards := range []int{1, 4} {
		b.Run(fmt.Sprint("shards=", shards), func(b *testing.B) {
			ctx := context.Background()
			c := kinesistest.New()
			if _, err := c.AddStream(stream, shards); err != nil {
				b.Fatal(err)
			}
			entries := make([]types.PutRecordsRequestEntry, 500)
			for i := range entries {
				entries[i] = types.PutRecordsRequestEntry{PartitionKey: ptr(fmt.Sprint("key-", i)), Data: make([]byte, 100)}
			}
			in := &kinesis.PutRecordsInput{StreamName: ptr(stream), Records: entries}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.PutRecords(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)*500/b.Elapsed().Seconds(), "records/s")
		})
	}
}
