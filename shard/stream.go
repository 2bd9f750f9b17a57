package shard

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
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
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "kinesis" || parts[3] == "" {
		return Stream{}, fmt.Errorf("stream ARN %q: want arn:<partition>:kinesis:<region>:<account>:stream/<name>", arn)
	}
	res, ok := strings.CutPrefix(parts[5], "stream/")
	if !ok || res == "" || strings.Contains(res, "/") {
		return Stream{}, fmt.Errorf("stream ARN %q: resource %q is not stream/<name>", arn, parts[5])
	}
	return Stream{ARN: arn, Name: res, Region: parts[3]}, nil
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
