package shard_test

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/esmkit/esmkit/shard"
)

// pagingLister serves ListShards in pages of size, checking that later pages
// are asked for with NextToken alone, as Kinesis requires.
type pagingLister struct {
	shard.Client // nil: any other call panics
	shards       []types.Shard
	size         int
	calls        int
}

func (l *pagingLister) ListShards(_ context.Context, in *kinesis.ListShardsInput, _ ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error) {
	l.calls++
	start := 0
	if in.NextToken != nil {
		if in.StreamName != nil || in.StreamARN != nil {
			return nil, &types.InvalidArgumentException{Message: aws.String("NextToken and StreamName cannot be provided together")}
		}
		start, _ = strconv.Atoi(*in.NextToken)
	} else if in.StreamARN == nil && in.StreamName == nil {
		return nil, &types.InvalidArgumentException{Message: aws.String("stream is required")}
	}
	end := len(l.shards)
	if l.size > 0 {
		end = min(start+l.size, end)
	}
	out := &kinesis.ListShardsOutput{Shards: l.shards[start:end]}
	if end < len(l.shards) {
		out.NextToken = aws.String(strconv.Itoa(end))
	}
	return out, nil
}

func shards(n int) []types.Shard {
	var s []types.Shard
	for i := range n {
		s = append(s, types.Shard{ShardId: aws.String(fmt.Sprintf("shardId-%012d", i))})
	}
	return s
}

func TestListPages(t *testing.T) {
	stream, err := shard.ParseStreamARN("arn:aws:kinesis:us-east-1:123456789012:stream/s")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		n, size   int
		byName    bool
		wantCalls int
	}{
		{"one page", 5, 0, false, 1},
		{"exact pages", 6, 3, false, 2},
		{"partial last page", 7, 3, true, 3},
		{"page of one", 4, 1, false, 4},
		{"empty stream", 0, 0, false, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := &pagingLister{shards: shards(tc.n), size: tc.size}
			st := stream
			st.ByName = tc.byName
			got, err := shard.List(context.Background(), l, st)
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if len(got) != tc.n {
				t.Errorf("got %d shards, want %d", len(got), tc.n)
			}
			if l.calls != tc.wantCalls {
				t.Errorf("got %d ListShards calls, want %d", l.calls, tc.wantCalls)
			}
		})
	}
}

func TestGraphReady(t *testing.T) {
	// 0 split into 1 and 2; 1 and 2 merged into 3; 4 has a parent that has
	// expired from the stream.
	sh := func(id string, parents ...string) types.Shard {
		s := types.Shard{ShardId: aws.String(id)}
		if len(parents) > 0 {
			s.ParentShardId = aws.String(parents[0])
		}
		if len(parents) > 1 {
			s.AdjacentParentShardId = aws.String(parents[1])
		}
		return s
	}
	g := shard.NewGraph([]types.Shard{sh("s3", "s1", "s2"), sh("s1", "s0"), sh("s2", "s0"), sh("s0"), sh("s4", "gone")})
	if got, want := g.IDs(), []string{"s0", "s1", "s2", "s3", "s4"}; !reflect.DeepEqual(got, want) {
		t.Errorf("IDs: got %v, want %v", got, want)
	}
	tests := []struct {
		done []string
		want []string // shards ready
	}{
		{nil, []string{"s0", "s4"}},
		{[]string{"s0"}, []string{"s0", "s1", "s2", "s4"}},
		{[]string{"s0", "s1"}, []string{"s0", "s1", "s2", "s4"}},
		{[]string{"s0", "s1", "s2"}, []string{"s0", "s1", "s2", "s3", "s4"}},
	}
	for _, tc := range tests {
		done := map[string]bool{}
		for _, d := range tc.done {
			done[d] = true
		}
		var ready []string
		for _, id := range g.IDs() {
			if g.Ready(id, func(p string) bool { return done[p] }) {
				ready = append(ready, id)
			}
		}
		if !reflect.DeepEqual(ready, tc.want) {
			t.Errorf("done %v: got ready %v, want %v", tc.done, ready, tc.want)
		}
	}
}

func TestParseStreamARN(t *testing.T) {
	tests := []struct {
		arn              string
		wantName, region string
		ok               bool
	}{
		{"arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream", "lambda-stream", "us-east-2", true},
		{"arn:aws-cn:kinesis:cn-north-1:123456789012:stream/s", "s", "cn-north-1", true},
		{"arn:aws:kinesis:us-east-2:123456789012:stream/s/consumer/c:1", "", "", false},
		{"arn:aws:sqs:us-east-2:123456789012:q", "", "", false},
		{"lambda-stream", "", "", false},
		{"arn:aws:kinesis::123456789012:stream/s", "", "", false},
	}
	for _, tc := range tests {
		s, err := shard.ParseStreamARN(tc.arn)
		if (err == nil) != tc.ok {
			t.Errorf("ParseStreamARN(%q): got err %v, want ok=%v", tc.arn, err, tc.ok)
			continue
		}
		if s.Name != tc.wantName || s.Region != tc.region {
			t.Errorf("ParseStreamARN(%q): got %q %q, want %q %q", tc.arn, s.Name, s.Region, tc.wantName, tc.region)
		}
	}
}
