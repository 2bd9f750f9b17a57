package shard

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/esmkit/esmkit/internal/event"
)

// Stream names a Kinesis data stream by ARN. Calls that address the stream
// send the ARN, or the name when ByName is set, since some Kinesis-compatible
// servers accept only the name.
type Stream struct {
	ARN    string
	Name   string
	Region string
	ByName bool
}

// ParseStreamARN parses arn:<partition>:kinesis:<region>:<account>:stream/<name>.
func ParseStreamARN(arn string) (Stream, error) {
	region, err := event.RegionFromARN(arn)
	if err != nil {
		return Stream{}, err
	}
	name, err := event.StreamNameFromARN(arn)
	if err != nil {
		return Stream{}, err
	}
	return Stream{ARN: arn, Name: name, Region: region}, nil
}

func (s Stream) listShardsInput() *kinesis.ListShardsInput {
	if s.ByName {
		return &kinesis.ListShardsInput{StreamName: aws.String(s.Name)}
	}
	return &kinesis.ListShardsInput{StreamARN: aws.String(s.ARN)}
}

func (s Stream) iteratorInput(shardID string) *kinesis.GetShardIteratorInput {
	in := &kinesis.GetShardIteratorInput{ShardId: aws.String(shardID)}
	if s.ByName {
		in.StreamName = aws.String(s.Name)
	} else {
		in.StreamARN = aws.String(s.ARN)
	}
	return in
}
