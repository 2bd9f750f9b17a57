package kinesistest

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

const (
	maxShardsPerStream = 10000
	onDemandShards     = 4
	defaultListShards  = 1000
	maxListShardsArg   = 10000
	defaultDescribeLim = 100
	nextTokenTTL       = 300 * time.Second
	retentionHours     = 24
	minRecordSizeKiB   = 1024
	maxRecordSizeKiB   = 10240
)

// CreateStream creates a stream that is ACTIVE at once, with ShardCount
// shards (4 when StreamModeDetails is ON_DEMAND and ShardCount is unset)
// splitting the hash key space evenly, and IDs shardId-000000000000 on.
// MaxRecordSizeInKiB (1024–10240, default 1024) bounds data plus partition
// key per record. Other fields are ignored. It is safe for concurrent use.
func (c *Client) CreateStream(ctx context.Context, in *kinesis.CreateStreamInput, _ ...func(*kinesis.Options)) (*kinesis.CreateStreamOutput, error) {
	if err := c.begin(ctx, opCreateStream); err != nil {
		return nil, err
	}
	if in == nil {
		in = &kinesis.CreateStreamInput{}
	}
	mode := types.StreamModeProvisioned
	if in.StreamModeDetails != nil && in.StreamModeDetails.StreamMode != "" {
		mode = in.StreamModeDetails.StreamMode
	}
	count := -1
	switch {
	case in.ShardCount != nil:
		count = int(*in.ShardCount)
	case mode == types.StreamModeOnDemand:
		count = onDemandShards
	}
	kib := defaultMaxRecordKiB
	if in.MaxRecordSizeInKiB != nil {
		kib = int(*in.MaxRecordSizeInKiB)
	}
	if _, err := c.createStream(deref(in.StreamName), count, mode, kib); err != nil {
		return nil, c.wrap(opCreateStream, err)
	}
	return &kinesis.CreateStreamOutput{}, nil
}

// AddStream creates an ACTIVE stream with n shards, as CreateStream does,
// and returns its ARN. It is a test helper: it is neither counted by Calls
// nor subject to injected faults, and its errors are the bare SDK exception
// types. It is safe for concurrent use.
func (c *Client) AddStream(name string, n int) (streamARN string, err error) {
	s, err := c.createStream(name, n, types.StreamModeProvisioned, defaultMaxRecordKiB)
	if err != nil {
		return "", err
	}
	return s.arn, nil
}

func (c *Client) createStream(name string, count int, mode types.StreamMode, kib int) (*stream, error) {
	if !validStreamName(name) {
		return nil, invalidArg("1 validation error detected: Value '%s' at 'streamName' failed to satisfy constraint: Member must have length between 1 and 128 and match [a-zA-Z0-9_.-]+", name)
	}
	if mode != types.StreamModeProvisioned && mode != types.StreamModeOnDemand {
		return nil, invalidArg("StreamMode %s is not one of %v.", mode, types.StreamMode("").Values())
	}
	if count < 1 {
		return nil, invalidArg("ShardCount must be provided and at least 1 for a %s stream, got %d.", mode, count)
	}
	if count > maxShardsPerStream {
		return nil, &types.LimitExceededException{Message: ptr(fmt.Sprintf(
			"This request would exceed the shard limit for the account %s in %s. Current limit of shards is %d. Number of additional shards that would have resulted from this request: %d.",
			c.cfg.account, c.cfg.region, maxShardsPerStream, count))}
	}
	if kib < minRecordSizeKiB || kib > maxRecordSizeKiB {
		return nil, &types.ValidationException{Message: ptr(fmt.Sprintf(
			"MaxRecordSizeInKiB %d not in [%d, %d].", kib, minRecordSizeKiB, maxRecordSizeKiB))}
	}

	now := c.cfg.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byName[name] != nil {
		return nil, inUse("Stream %s under account %s already exists.", name, c.cfg.account)
	}
	c.streamID++
	s := &stream{
		id:            c.streamID,
		name:          name,
		arn:           c.streamARN(name),
		created:       now,
		mode:          mode,
		maxRecordSize: kib << 10,
	}
	for _, r := range evenRanges(count) {
		s.open = append(s.open, s.newShardLocked("", "", r[0], r[1], now))
	}
	c.byName[name] = s
	c.byID[s.id] = s
	return s, nil
}

// newShardLocked adds a shard to s. Client.mu must be held for writing and
// s.putMu held (or s unpublished).
func (s *stream) newShardLocked(parent, adjParent string, start, end u128, now time.Time) *shard {
	sh := &shard{
		idx:       len(s.shards),
		parent:    parent,
		adjParent: adjParent,
		start:     start,
		end:       end,
		startKey:  start.String(),
		endKey:    end.String(),
		created:   now,
	}
	sh.id = shardID(sh.idx)
	sh.startSeq = s.nextSeqLocked(sh)
	s.shards = append(s.shards, sh)
	return sh
}

func validStreamName(name string) bool {
	if name == "" || len(name) > 128 {
		return false
	}
	for _, r := range name {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '_', r == '.', r == '-':
		default:
			return false
		}
	}
	return true
}

// DeleteStream deletes a stream and its data at once. Iterators of the
// stream then fail with ResourceNotFoundException, even if a stream of the
// same name is created again. It is safe for concurrent use.
func (c *Client) DeleteStream(ctx context.Context, in *kinesis.DeleteStreamInput, _ ...func(*kinesis.Options)) (*kinesis.DeleteStreamOutput, error) {
	if err := c.begin(ctx, opDeleteStream); err != nil {
		return nil, err
	}
	if in == nil {
		in = &kinesis.DeleteStreamInput{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s, err := c.resolveLocked(in.StreamName, in.StreamARN)
	if err != nil {
		return nil, c.wrap(opDeleteStream, err)
	}
	delete(c.byName, s.name)
	delete(c.byID, s.id)
	return &kinesis.DeleteStreamOutput{}, nil
}

// UpdateMaxRecordSize sets the largest record (data plus partition key)
// that puts to the stream at StreamARN accept, between 1024 and 10240 KiB;
// a value outside that range fails with *types.ValidationException. It is
// safe for concurrent use.
func (c *Client) UpdateMaxRecordSize(ctx context.Context, in *kinesis.UpdateMaxRecordSizeInput, _ ...func(*kinesis.Options)) (*kinesis.UpdateMaxRecordSizeOutput, error) {
	if err := c.begin(ctx, opUpdateMaxRecordSize); err != nil {
		return nil, err
	}
	if in == nil {
		in = &kinesis.UpdateMaxRecordSizeInput{}
	}
	kib := int(deref(in.MaxRecordSizeInKiB))
	if kib < minRecordSizeKiB || kib > maxRecordSizeKiB {
		return nil, c.wrap(opUpdateMaxRecordSize, &types.ValidationException{Message: ptr(fmt.Sprintf(
			"MaxRecordSizeInKiB %d not in [%d, %d].", kib, minRecordSizeKiB, maxRecordSizeKiB))})
	}
	if in.StreamARN == nil {
		return nil, c.wrap(opUpdateMaxRecordSize, invalidArg("StreamARN must be provided."))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s, err := c.resolveLocked(nil, in.StreamARN)
	if err != nil {
		return nil, c.wrap(opUpdateMaxRecordSize, err)
	}
	s.maxRecordSize = kib << 10
	return &kinesis.UpdateMaxRecordSizeOutput{}, nil
}

// DescribeStreamSummary describes a stream without its shards. It is safe
// for concurrent use.
func (c *Client) DescribeStreamSummary(ctx context.Context, in *kinesis.DescribeStreamSummaryInput, _ ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error) {
	if err := c.begin(ctx, opDescribeStreamSummary); err != nil {
		return nil, err
	}
	if in == nil {
		in = &kinesis.DescribeStreamSummaryInput{}
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	s, err := c.resolveLocked(in.StreamName, in.StreamARN)
	if err != nil {
		return nil, c.wrap(opDescribeStreamSummary, err)
	}
	return &kinesis.DescribeStreamSummaryOutput{StreamDescriptionSummary: &types.StreamDescriptionSummary{
		StreamName:              ptr(s.name),
		StreamARN:               ptr(s.arn),
		StreamId:                ptr(strconv.FormatUint(s.id, 10)),
		StreamStatus:            types.StreamStatusActive,
		StreamModeDetails:       &types.StreamModeDetails{StreamMode: s.mode},
		StreamCreationTimestamp: ptr(s.created),
		RetentionPeriodHours:    ptr(int32(retentionHours)),
		OpenShardCount:          ptr(int32(len(s.open))),
		ConsumerCount:           ptr(int32(0)),
		EncryptionType:          types.EncryptionTypeNone,
		EnhancedMonitoring:      []types.EnhancedMetrics{{ShardLevelMetrics: []types.MetricsName{}}},
		MaxRecordSizeInKiB:      ptr(int32(s.maxRecordSize >> 10)),
	}}, nil
}

// DescribeStream describes a stream and up to Limit (1–10000, default 100)
// of its shards after ExclusiveStartShardId, setting HasMoreShards when more
// remain. Prefer ListShards, as AWS advises. It is safe for concurrent use.
func (c *Client) DescribeStream(ctx context.Context, in *kinesis.DescribeStreamInput, _ ...func(*kinesis.Options)) (*kinesis.DescribeStreamOutput, error) {
	if err := c.begin(ctx, opDescribeStream); err != nil {
		return nil, err
	}
	if in == nil {
		in = &kinesis.DescribeStreamInput{}
	}
	limit := defaultDescribeLim
	if in.Limit != nil {
		limit = int(*in.Limit)
		if limit < 1 || limit > maxListShardsArg {
			return nil, c.wrap(opDescribeStream, invalidArg(
				"1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and %d", limit, maxListShardsArg))
		}
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	s, err := c.resolveLocked(in.StreamName, in.StreamARN)
	if err != nil {
		return nil, c.wrap(opDescribeStream, err)
	}
	var shards []types.Shard
	more := false
	for _, sh := range s.shards {
		if in.ExclusiveStartShardId != nil && sh.id <= *in.ExclusiveStartShardId {
			continue
		}
		if len(shards) == limit {
			more = true
			break
		}
		shards = append(shards, sh.sdkLocked())
	}
	return &kinesis.DescribeStreamOutput{StreamDescription: &types.StreamDescription{
		StreamName:              ptr(s.name),
		StreamARN:               ptr(s.arn),
		StreamStatus:            types.StreamStatusActive,
		StreamModeDetails:       &types.StreamModeDetails{StreamMode: s.mode},
		StreamCreationTimestamp: ptr(s.created),
		RetentionPeriodHours:    ptr(int32(retentionHours)),
		EncryptionType:          types.EncryptionTypeNone,
		EnhancedMonitoring:      []types.EnhancedMetrics{{ShardLevelMetrics: []types.MetricsName{}}},
		Shards:                  shards,
		HasMoreShards:           ptr(more),
	}}, nil
}

// sdkLocked describes sh as the API does. Client.mu must be held.
func (sh *shard) sdkLocked() types.Shard {
	out := types.Shard{
		ShardId:             ptr(sh.id),
		HashKeyRange:        &types.HashKeyRange{StartingHashKey: ptr(sh.startKey), EndingHashKey: ptr(sh.endKey)},
		SequenceNumberRange: &types.SequenceNumberRange{StartingSequenceNumber: ptr(sh.startSeq)},
	}
	if sh.parent != "" {
		out.ParentShardId = ptr(sh.parent)
	}
	if sh.adjParent != "" {
		out.AdjacentParentShardId = ptr(sh.adjParent)
	}
	if sh.closed {
		out.SequenceNumberRange.EndingSequenceNumber = ptr(sh.endSeq)
	}
	return out
}

// ListShards lists a stream's shards in ID order, closed ones included,
// with ParentShardId and AdjacentParentShardId.
//
// MaxResults must be in [1, 10000]; at most 1000 shards (the default) are
// returned per call, with a NextToken when more remain. A NextToken is
// valid for 300 seconds of the Clock and cannot be combined with
// StreamName, ExclusiveStartShardId, ShardFilter or StreamCreationTimestamp;
// StreamARN is accepted alongside it if it names the same stream.
//
// With no retention limit in the fake, the trim horizon is the stream's
// creation, so ShardFilter types mean: FROM_TRIM_HORIZON (the default)
// every shard; AT_TRIM_HORIZON the shards created with the stream;
// AT_LATEST the open shards; AFTER_SHARD_ID the shards after ShardId;
// AT_TIMESTAMP the shards open at Timestamp; FROM_TIMESTAMP the shards open
// at or created after Timestamp. It is safe for concurrent use.
func (c *Client) ListShards(ctx context.Context, in *kinesis.ListShardsInput, _ ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error) {
	if err := c.begin(ctx, opListShards); err != nil {
		return nil, err
	}
	if in == nil {
		in = &kinesis.ListShardsInput{}
	}
	out, err := c.listShards(in)
	if err != nil {
		return nil, c.wrap(opListShards, err)
	}
	return out, nil
}

// listToken is the state a ListShards NextToken carries.
type listToken struct {
	stream uint64
	after  string // last shard ID returned
	filter types.ShardFilter
	issued time.Time
}

func (c *Client) listShards(in *kinesis.ListShardsInput) (*kinesis.ListShardsOutput, error) {
	limit := defaultListShards
	if in.MaxResults != nil {
		limit = int(*in.MaxResults)
		if limit < 1 || limit > maxListShardsArg {
			return nil, invalidArg("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and %d", limit, maxListShardsArg)
		}
		limit = min(limit, defaultListShards)
	}
	now := c.cfg.now()

	c.mu.RLock()
	defer c.mu.RUnlock()
	var (
		s      *stream
		after  string
		filter types.ShardFilter
	)
	if in.NextToken != nil {
		if in.StreamName != nil || in.ExclusiveStartShardId != nil || in.ShardFilter != nil || in.StreamCreationTimestamp != nil {
			return nil, invalidArg("NextToken and StreamName, ExclusiveStartShardId, ShardFilter or StreamCreationTimestamp cannot be provided together.")
		}
		tok, ok := decodeListToken(*in.NextToken)
		if !ok {
			return nil, invalidArg("Invalid NextToken.")
		}
		if !now.Before(tok.issued.Add(nextTokenTTL)) {
			return nil, &types.ExpiredNextTokenException{Message: ptr("The timestamp of the NextToken is more than 300 seconds old.")}
		}
		if s = c.byID[tok.stream]; s == nil {
			return nil, notFound("The stream of the NextToken under account %s does not exist.", c.cfg.account)
		}
		if in.StreamARN != nil && *in.StreamARN != s.arn {
			return nil, invalidArg("StreamARN %s does not match the stream of the NextToken.", *in.StreamARN)
		}
		after, filter = tok.after, tok.filter
	} else {
		var err error
		if s, err = c.resolveLocked(in.StreamName, in.StreamARN); err != nil {
			return nil, err
		}
		after = deref(in.ExclusiveStartShardId)
		if in.ShardFilter != nil {
			filter = *in.ShardFilter
		}
		switch filter.Type {
		case "", types.ShardFilterTypeFromTrimHorizon, types.ShardFilterTypeAtTrimHorizon, types.ShardFilterTypeAtLatest:
		case types.ShardFilterTypeAfterShardId:
			if filter.ShardId == nil {
				return nil, invalidArg("ShardFilter ShardId must be provided for type AFTER_SHARD_ID.")
			}
			after = max(after, *filter.ShardId)
		case types.ShardFilterTypeAtTimestamp, types.ShardFilterTypeFromTimestamp:
			if filter.Timestamp == nil {
				return nil, invalidArg("ShardFilter Timestamp must be provided for type %s.", filter.Type)
			}
		default:
			return nil, invalidArg("ShardFilter Type %s is not one of %v.", filter.Type, types.ShardFilterType("").Values())
		}
	}

	out := &kinesis.ListShardsOutput{Shards: []types.Shard{}}
	last := ""
	for _, sh := range s.shards {
		if sh.id <= after || !sh.matchLocked(filter) {
			continue
		}
		if len(out.Shards) == limit {
			tok := encodeListToken(listToken{stream: s.id, after: last, filter: filter, issued: now})
			out.NextToken = &tok
			break
		}
		out.Shards = append(out.Shards, sh.sdkLocked())
		last = sh.id
	}
	return out, nil
}

// matchLocked reports whether sh passes f; see ListShards. Client.mu must
// be held.
func (sh *shard) matchLocked(f types.ShardFilter) bool {
	switch f.Type {
	case types.ShardFilterTypeAtTrimHorizon:
		return sh.parent == ""
	case types.ShardFilterTypeAtLatest:
		return !sh.closed
	case types.ShardFilterTypeAtTimestamp:
		ts := *f.Timestamp
		return !sh.created.After(ts) && (!sh.closed || !sh.closedAt.Before(ts))
	case types.ShardFilterTypeFromTimestamp:
		return !sh.closed || !sh.closedAt.Before(*f.Timestamp)
	}
	return true
}

func encodeListToken(t listToken) string {
	ts := ""
	if t.filter.Timestamp != nil {
		ts = t.filter.Timestamp.Format(time.RFC3339Nano)
	}
	raw := strings.Join([]string{"1", strconv.FormatUint(t.stream, 10), t.after, string(t.filter.Type),
		deref(t.filter.ShardId), ts, t.issued.Format(time.RFC3339Nano)}, "|")
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeListToken(s string) (listToken, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return listToken{}, false
	}
	f := strings.Split(string(raw), "|")
	if len(f) != 7 || f[0] != "1" {
		return listToken{}, false
	}
	var t listToken
	if t.stream, err = strconv.ParseUint(f[1], 10, 64); err != nil {
		return listToken{}, false
	}
	t.after = f[2]
	t.filter.Type = types.ShardFilterType(f[3])
	if f[4] != "" {
		t.filter.ShardId = ptr(f[4])
	}
	if f[5] != "" {
		ts, err := time.Parse(time.RFC3339Nano, f[5])
		if err != nil {
			return listToken{}, false
		}
		t.filter.Timestamp = &ts
	}
	if t.issued, err = time.Parse(time.RFC3339Nano, f[6]); err != nil {
		return listToken{}, false
	}
	return t, true
}

// SplitShard closes ShardToSplit and creates two children: one from its
// starting hash key to NewStartingHashKey-1, one from NewStartingHashKey to
// its ending hash key. NewStartingHashKey must lie strictly inside the
// parent's range, after its start. New puts go to the children, whose
// sequence numbers exceed the parent's. It is safe for concurrent use.
func (c *Client) SplitShard(ctx context.Context, in *kinesis.SplitShardInput, _ ...func(*kinesis.Options)) (*kinesis.SplitShardOutput, error) {
	if err := c.begin(ctx, opSplitShard); err != nil {
		return nil, err
	}
	if in == nil {
		in = &kinesis.SplitShardInput{}
	}
	if err := c.splitShard(in); err != nil {
		return nil, c.wrap(opSplitShard, err)
	}
	return &kinesis.SplitShardOutput{}, nil
}

func (c *Client) splitShard(in *kinesis.SplitShardInput) error {
	if in.ShardToSplit == nil || in.NewStartingHashKey == nil {
		return invalidArg("ShardToSplit and NewStartingHashKey must be provided.")
	}
	key, ok := parseU128(*in.NewStartingHashKey)
	if !ok {
		return invalidArg("NewStartingHashKey %s is not an integer in [0, 2^128-1].", *in.NewStartingHashKey)
	}
	now := c.cfg.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	s, err := c.resolveLocked(in.StreamName, in.StreamARN)
	if err != nil {
		return err
	}
	sh, err := c.shardLocked(s, *in.ShardToSplit)
	if err != nil {
		return err
	}
	if sh.closed {
		return c.notOpen(s, sh)
	}
	if key.cmp(sh.start) <= 0 || key.cmp(sh.end) > 0 {
		return invalidArg("NewStartingHashKey %s used in SplitShard() on shard %s in stream %s under account %s is not both greater than one plus the shard's StartingHashKey %s and less than the shard's EndingHashKey %s.",
			*in.NewStartingHashKey, sh.id, s.name, c.cfg.account, sh.startKey, sh.endKey)
	}
	s.reshardLocked(now, []*shard{sh}, func() []*shard {
		return []*shard{
			s.newShardLocked(sh.id, "", sh.start, key.sub1(), now),
			s.newShardLocked(sh.id, "", key, sh.end, now),
		}
	})
	return nil
}

// MergeShards closes ShardToMerge and AdjacentShardToMerge, whose hash key
// ranges must be adjacent, and creates one child covering both, with
// ParentShardId ShardToMerge and AdjacentParentShardId
// AdjacentShardToMerge. It is safe for concurrent use.
func (c *Client) MergeShards(ctx context.Context, in *kinesis.MergeShardsInput, _ ...func(*kinesis.Options)) (*kinesis.MergeShardsOutput, error) {
	if err := c.begin(ctx, opMergeShards); err != nil {
		return nil, err
	}
	if in == nil {
		in = &kinesis.MergeShardsInput{}
	}
	if err := c.mergeShards(in); err != nil {
		return nil, c.wrap(opMergeShards, err)
	}
	return &kinesis.MergeShardsOutput{}, nil
}

func (c *Client) mergeShards(in *kinesis.MergeShardsInput) error {
	if in.ShardToMerge == nil || in.AdjacentShardToMerge == nil {
		return invalidArg("ShardToMerge and AdjacentShardToMerge must be provided.")
	}
	now := c.cfg.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	s, err := c.resolveLocked(in.StreamName, in.StreamARN)
	if err != nil {
		return err
	}
	a, err := c.shardLocked(s, *in.ShardToMerge)
	if err != nil {
		return err
	}
	b, err := c.shardLocked(s, *in.AdjacentShardToMerge)
	if err != nil {
		return err
	}
	for _, sh := range []*shard{a, b} {
		if sh.closed {
			return c.notOpen(s, sh)
		}
	}
	lo, hi := a, b
	if hi.start.cmp(lo.start) < 0 {
		lo, hi = hi, lo
	}
	if a == b || lo.end.add1() != hi.start {
		return invalidArg("Shards %s and %s in stream %s under account %s are not an adjacent pair of shards eligible for merging",
			a.id, b.id, s.name, c.cfg.account)
	}
	s.reshardLocked(now, []*shard{a, b}, func() []*shard {
		return []*shard{s.newShardLocked(a.id, b.id, lo.start, hi.end, now)}
	})
	return nil
}

func (c *Client) notOpen(s *stream, sh *shard) error {
	return inUse("Shard %s in stream %s under account %s has already been merged or split, and thus is not eligible for merging or splitting.",
		sh.id, s.name, c.cfg.account)
}

// reshardLocked closes parents and opens the shards newChildren creates.
// The parents' ending sequence numbers are issued before newChildren runs,
// so every child number is greater. Each parent's closed state and
// children are published together under its lock, since GetRecords reads
// them without Client.mu. Client.mu must be held for writing.
func (s *stream) reshardLocked(now time.Time, parents []*shard, newChildren func() []*shard) {
	s.putMu.Lock()
	defer s.putMu.Unlock()
	ends := make([]string, len(parents))
	for i, p := range parents {
		ends[i] = s.nextSeqLocked(p)
	}
	children := newChildren()
	for i, p := range parents {
		p.mu.Lock()
		p.closed = true
		p.endSeq = ends[i]
		p.closedAt = now
		p.children = children
		p.mu.Unlock()
	}
	open := slices.DeleteFunc(s.open, func(sh *shard) bool { return slices.Contains(parents, sh) })
	open = append(open, children...)
	slices.SortFunc(open, func(a, b *shard) int { return a.start.cmp(b.start) })
	s.open = open
}
