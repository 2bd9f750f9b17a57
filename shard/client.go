package shard

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// Client is the part of the Kinesis API that a polling reader calls.
// *kinesis.Client satisfies it, and so does *kinesistest.Client.
// Errors are the SDK's own types (*types.ExpiredIteratorException, …).
type Client interface {
	ListShards(ctx context.Context, in *kinesis.ListShardsInput, optFns ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error)
	GetShardIterator(ctx context.Context, in *kinesis.GetShardIteratorInput, optFns ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *kinesis.GetRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error)
}

var _ Client = (*kinesis.Client)(nil)
