package shard

import (
	"context"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// List returns every shard of the stream, following NextToken until the last
// page. Servers that ignore MaxResults and return everything at once work too.
func List(ctx context.Context, c Client, s Stream) ([]types.Shard, error) {
	var shards []types.Shard
	in := s.listShardsInput()
	seen := make(map[string]bool)
	for {
		out, err := c.ListShards(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, sh := range out.Shards {
			id := aws.ToString(sh.ShardId)
			if id == "" || seen[id] {
				continue
			}
			seen[id] = true
			shards = append(shards, sh)
		}
		if out.NextToken == nil || *out.NextToken == "" {
			return shards, nil
		}
		if in.NextToken != nil && *in.NextToken == *out.NextToken {
			return nil, fmt.Errorf("ListShards returned the same NextToken twice")
		}
		// NextToken must be sent without the stream name or ARN.
		in = &kinesis.ListShardsInput{NextToken: out.NextToken}
	}
}

// Graph is the parent/child lineage of a stream's shards. A Graph is
// immutable and safe for concurrent use.
type Graph struct {
	shards  map[string]types.Shard
	order   []string
	parents map[string][]string
}

// NewGraph builds the lineage of shards from ParentShardId and
// AdjacentParentShardId.
func NewGraph(shards []types.Shard) *Graph {
	g := &Graph{shards: make(map[string]types.Shard, len(shards)), parents: make(map[string][]string)}
	for _, sh := range shards {
		id := aws.ToString(sh.ShardId)
		if _, dup := g.shards[id]; dup {
			continue
		}
		g.shards[id] = sh
		g.order = append(g.order, id)
		for _, p := range []*string{sh.ParentShardId, sh.AdjacentParentShardId} {
			if p != nil && *p != "" {
				g.parents[id] = append(g.parents[id], *p)
			}
		}
	}
	sort.Strings(g.order)
	return g
}

// IDs returns every shard ID in lexical order.
func (g *Graph) IDs() []string { return append([]string(nil), g.order...) }

// Shard returns the shard with the given ID.
func (g *Graph) Shard(id string) (types.Shard, bool) {
	sh, ok := g.shards[id]
	return sh, ok
}

// Parents returns the IDs a shard names as parents, whether or not they are
// still listed.
func (g *Graph) Parents(id string) []string { return g.parents[id] }

// Closed reports whether the shard has an ending sequence number, that is,
// it no longer receives records.
func (g *Graph) Closed(id string) bool {
	sh, ok := g.shards[id]
	return ok && sh.SequenceNumberRange != nil && sh.SequenceNumberRange.EndingSequenceNumber != nil
}

// Ready reports whether shard id may be read: every parent is either done
// or no longer listed (expired from the stream, so nothing of it remains to
// read).
func (g *Graph) Ready(id string, done func(shardID string) bool) bool {
	for _, p := range g.parents[id] {
		if _, listed := g.shards[p]; listed && !done(p) {
			return false
		}
	}
	return true
}
