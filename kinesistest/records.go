package kinesistest

import (
	"context"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

const (
	maxPutRecords       = 500
	maxPartitionKeyLen  = 256
	defaultMaxRecordKiB = 1024
	maxGetRecords       = 10000
	maxGetRecordsBytes  = 10 << 20
	iteratorTTL         = 5 * time.Minute
	seqLen              = 56
)

// recMeta holds what a stored types.Record points to. PutRecords allocates
// the metas of a whole request at once, so the Record pointer fields cost no
// allocation per record.
type recMeta struct {
	seq     string
	pk      string
	arrival time.Time
}

// PutRecord writes one record to the open shard whose hash key range holds
// the MD5 hash of PartitionKey, or ExplicitHashKey when given. Data is
// copied, so the caller may reuse its buffer. SequenceNumberForOrdering and
// DryRun are ignored. It is safe for concurrent use.
func (c *Client) PutRecord(ctx context.Context, in *kinesis.PutRecordInput, _ ...func(*kinesis.Options)) (*kinesis.PutRecordOutput, error) {
	if err := c.begin(ctx, opPutRecord); err != nil {
		return nil, err
	}
	if in == nil {
		in = &kinesis.PutRecordInput{}
	}
	e := []types.PutRecordsRequestEntry{{Data: in.Data, PartitionKey: in.PartitionKey, ExplicitHashKey: in.ExplicitHashKey}}
	res, err := c.put(in.StreamName, in.StreamARN, e)
	if err != nil {
		return nil, c.wrap(opPutRecord, err)
	}
	return &kinesis.PutRecordOutput{SequenceNumber: res[0].SequenceNumber, ShardId: res[0].ShardId}, nil
}

// PutRecords writes up to 500 records, each routed as PutRecord routes it;
// records that go to the same shard keep their order. The request succeeds
// or fails as a whole, so FailedRecordCount is always 0. It is safe for
// concurrent use.
func (c *Client) PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error) {
	if err := c.begin(ctx, opPutRecords); err != nil {
		return nil, err
	}
	if in == nil {
		in = &kinesis.PutRecordsInput{}
	}
	if len(in.Records) == 0 || len(in.Records) > maxPutRecords {
		return nil, c.wrap(opPutRecords, invalidArg(
			"1 validation error detected: Value at 'records' failed to satisfy constraint: Member must have length between 1 and %d, got %d", maxPutRecords, len(in.Records)))
	}
	res, err := c.put(in.StreamName, in.StreamARN, in.Records)
	if err != nil {
		return nil, c.wrap(opPutRecords, err)
	}
	return &kinesis.PutRecordsOutput{Records: res, FailedRecordCount: ptr(int32(0))}, nil
}

// Put writes data under partitionKey to stream (a name or an ARN) and
// returns the shard and sequence number it got. It is a test helper: it is
// neither counted by Calls nor subject to injected faults, and its errors
// are the bare SDK exception types. It is safe for concurrent use.
func (c *Client) Put(ctx context.Context, stream, partitionKey string, data []byte) (shardID, seq string, err error) {
	if err := ctx.Err(); err != nil {
		return "", "", err
	}
	name, arn := nameOrARN(stream)
	res, err := c.put(name, arn, []types.PutRecordsRequestEntry{{Data: data, PartitionKey: &partitionKey}})
	if err != nil {
		return "", "", err
	}
	return *res[0].ShardId, *res[0].SequenceNumber, nil
}

func nameOrARN(s string) (name, arn *string) {
	if strings.HasPrefix(s, "arn:") {
		return nil, &s
	}
	return &s, nil
}

// put validates and stores entries atomically: either all are stored or none.
func (c *Client) put(name, arn *string, entries []types.PutRecordsRequestEntry) ([]types.PutRecordsResultEntry, error) {
	for i := range entries {
		pk := deref(entries[i].PartitionKey)
		if pk == "" || (len(pk) > maxPartitionKeyLen && utf8.RuneCountInString(pk) > maxPartitionKeyLen) {
			return nil, invalidArg("1 validation error detected: Value at 'partitionKey' failed to satisfy constraint: Member must have length between 1 and %d", maxPartitionKeyLen)
		}
	}

	c.mu.RLock()
	defer c.mu.RUnlock()
	s, err := c.resolveLocked(name, arn)
	if err != nil {
		return nil, err
	}

	// Validate, route and copy data before taking putMu, which serializes
	// puts to the stream: MD5 and copying are the expensive part.
	total := 0
	targets := make([]*shard, len(entries))
	for i := range entries {
		e := &entries[i]
		pk := *e.PartitionKey
		if size := len(e.Data) + len(pk); size > s.maxRecordSize {
			return nil, invalidArg("Record size %d bytes (data plus partition key) exceeds the maximum record size %d bytes of stream %s under account %s.",
				size, s.maxRecordSize, s.name, c.cfg.account)
		}
		var h u128
		if e.ExplicitHashKey != nil {
			var ok bool
			if h, ok = parseU128(*e.ExplicitHashKey); !ok {
				return nil, invalidArg("Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was %s", *e.ExplicitHashKey)
			}
		} else {
			h = hashKey(pk)
		}
		targets[i] = s.route(h)
		total += len(e.Data)
	}
	slab := make([]byte, total)
	metas := make([]recMeta, len(entries))
	off := 0
	for i := range entries {
		off += copy(slab[off:], entries[i].Data)
		metas[i].pk = *entries[i].PartitionKey
	}

	s.putMu.Lock()
	defer s.putMu.Unlock()
	// Kinesis stamps arrival with millisecond precision. Never going back
	// keeps AT_TIMESTAMP's binary search valid when the Clock does.
	now := c.cfg.now().Truncate(time.Millisecond)
	if now.Before(s.lastArrival) {
		now = s.lastArrival
	}
	s.lastArrival = now
	var b strings.Builder
	b.Grow(seqLen * len(entries))
	for i := range entries {
		s.seq++
		appendSeq(&b, s.seq, s.id, targets[i].idx)
	}
	seqs := b.String()
	for i := range metas {
		metas[i].seq = seqs[i*seqLen : (i+1)*seqLen]
		metas[i].arrival = now
	}

	// Publish. Holding one shard's lock across a run of records bound for it
	// saves a lock round trip per record.
	out := make([]types.PutRecordsResultEntry, len(entries))
	var locked *shard
	off = 0
	for i, sh := range targets {
		if sh != locked {
			if locked != nil {
				locked.mu.Unlock()
			}
			sh.mu.Lock()
			locked = sh
		}
		n := len(entries[i].Data)
		sh.log.append(types.Record{
			Data:                        slab[off : off+n : off+n],
			SequenceNumber:              &metas[i].seq,
			PartitionKey:                &metas[i].pk,
			ApproximateArrivalTimestamp: &metas[i].arrival,
		})
		off += n
		out[i] = types.PutRecordsResultEntry{SequenceNumber: &metas[i].seq, ShardId: &sh.id}
	}
	locked.mu.Unlock()
	return out, nil
}

// route returns the open shard whose hash key range holds h. The open
// shards tile the hash key space, so there is always one. Client.mu must be
// held.
func (s *stream) route(h u128) *shard {
	i := sort.Search(len(s.open), func(i int) bool { return s.open[i].end.cmp(h) >= 0 })
	return s.open[i]
}

// appendSeq writes a 56-digit sequence number: "49", the 20-digit stream
// counter (offset so it has no leading zeros), then the stream ID and the
// shard index in 17 digits each. The counter makes numbers strictly
// increase across the stream; the suffix lets GetShardIterator reject a
// number that came from another shard, as Kinesis does.
func appendSeq(b *strings.Builder, counter, streamID uint64, shardIdx int) {
	var buf [seqLen]byte
	buf[0], buf[1] = '4', '9'
	putDigits(buf[2:22], 1e19+counter)
	putDigits(buf[22:39], streamID)
	putDigits(buf[39:56], uint64(shardIdx))
	b.Write(buf[:])
}

func putDigits(dst []byte, v uint64) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = byte('0' + v%10)
		v /= 10
	}
}

// nextSeqLocked issues the next sequence number of s, in shard sh.
// s.putMu must be held, or s not yet published.
func (s *stream) nextSeqLocked(sh *shard) string {
	var b strings.Builder
	s.seq++
	appendSeq(&b, s.seq, s.id, sh.idx)
	return b.String()
}

// seqSuffix is the part of every sequence number of sh that names it.
func (sh *shard) seqSuffix(streamID uint64) string {
	var buf [34]byte
	putDigits(buf[:17], streamID)
	putDigits(buf[17:], uint64(sh.idx))
	return string(buf[:])
}

// GetShardIterator returns an iterator for a shard of the stream named by
// StreamName or StreamARN, of any ShardIteratorType. The iterator expires
// five minutes after issue on the Clock, or at ExpireIterators. A closed
// shard gives a valid iterator too. It is safe for concurrent use.
func (c *Client) GetShardIterator(ctx context.Context, in *kinesis.GetShardIteratorInput, _ ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error) {
	if err := c.begin(ctx, opGetShardIterator); err != nil {
		return nil, err
	}
	if in == nil {
		in = &kinesis.GetShardIteratorInput{}
	}
	it, err := c.getShardIterator(in)
	if err != nil {
		return nil, c.wrap(opGetShardIterator, err)
	}
	return &kinesis.GetShardIteratorOutput{ShardIterator: &it}, nil
}

func (c *Client) getShardIterator(in *kinesis.GetShardIteratorInput) (string, error) {
	c.mu.RLock()
	s, err := c.resolveLocked(in.StreamName, in.StreamARN)
	if err != nil {
		c.mu.RUnlock()
		return "", err
	}
	if in.ShardId == nil {
		c.mu.RUnlock()
		return "", invalidArg("1 validation error detected: Value null at 'shardId' failed to satisfy constraint: Member must not be null")
	}
	sh, err := c.shardLocked(s, *in.ShardId)
	c.mu.RUnlock()
	if err != nil {
		return "", err
	}

	now := c.cfg.now()
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	n := sh.log.len()
	var pos int
	switch in.ShardIteratorType {
	case types.ShardIteratorTypeTrimHorizon:
		pos = 0
	case types.ShardIteratorTypeLatest:
		pos = n
	case types.ShardIteratorTypeAtSequenceNumber, types.ShardIteratorTypeAfterSequenceNumber:
		seq := deref(in.StartingSequenceNumber)
		if seq == "" {
			return "", invalidArg("StartingSequenceNumber must be provided for ShardIteratorType %s.", in.ShardIteratorType)
		}
		if len(seq) != seqLen || !strings.HasPrefix(seq, "49") || seq[22:] != sh.seqSuffix(s.id) || !allDigits(seq) {
			return "", invalidArg("StartingSequenceNumber %s used in GetShardIterator on shard %s in stream %s under account %s is invalid because it did not come from this stream.",
				seq, sh.id, s.name, c.cfg.account)
		}
		after := in.ShardIteratorType == types.ShardIteratorTypeAfterSequenceNumber
		// Numbers of one shard have equal length, so strings compare as numbers.
		pos = sort.Search(n, func(i int) bool {
			if after {
				return *sh.log.at(i).SequenceNumber > seq
			}
			return *sh.log.at(i).SequenceNumber >= seq
		})
	case types.ShardIteratorTypeAtTimestamp:
		if in.Timestamp == nil {
			return "", invalidArg("Timestamp must be provided for ShardIteratorType AT_TIMESTAMP.")
		}
		ts := *in.Timestamp
		if ts.After(now) {
			return "", invalidArg("The timestamp %s provided is in the future; the current time is %s.",
				ts.UTC().Format(time.RFC3339Nano), now.UTC().Format(time.RFC3339Nano))
		}
		pos = sort.Search(n, func(i int) bool { return !sh.log.at(i).ApproximateArrivalTimestamp.Before(ts) })
	default:
		return "", invalidArg("1 validation error detected: Value '%s' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: %v",
			in.ShardIteratorType, types.ShardIteratorType("").Values())
	}
	return c.encodeIterator(s.id, sh.idx, pos, now), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// GetRecords returns up to Limit (default and maximum 10,000) records from
// the iterator's position, stopping early rather than exceed 10 MiB of data
// (but always returning at least one record when one is available).
//
// NextShardIterator is set unless the shard is closed and the response
// reaches its end, in which case it is nil and ChildShards lists the
// shard's children; that response may itself carry the shard's last
// records. MillisBehindLatest is 0 when the response reaches the newest
// record, and otherwise the Clock's now minus the arrival time of the first
// record not returned, but at least 1, so that "behind" is never reported
// as 0.
//
// The returned Records are a fresh slice, but their Data and pointer fields
// are shared with the Client and with other callers: treat them as
// read-only. It is safe for concurrent use.
func (c *Client) GetRecords(ctx context.Context, in *kinesis.GetRecordsInput, _ ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error) {
	if err := c.begin(ctx, opGetRecords); err != nil {
		return nil, err
	}
	if in == nil {
		in = &kinesis.GetRecordsInput{}
	}
	out, err := c.getRecords(in)
	if err != nil {
		return nil, c.wrap(opGetRecords, err)
	}
	return out, nil
}

// getRecordsResult lets one allocation hold the output and what its
// pointer fields point to.
type getRecordsResult struct {
	out    kinesis.GetRecordsOutput
	next   string
	millis int64
}

func (c *Client) getRecords(in *kinesis.GetRecordsInput) (*kinesis.GetRecordsOutput, error) {
	limit := maxGetRecords
	if in.Limit != nil {
		limit = int(*in.Limit)
		if limit < 1 || limit > maxGetRecords {
			return nil, invalidArg("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and %d", limit, maxGetRecords)
		}
	}
	if in.ShardIterator == nil {
		return nil, invalidArg("1 validation error detected: Value null at 'shardIterator' failed to satisfy constraint: Member must not be null")
	}
	it, ok := decodeIterator(*in.ShardIterator)
	if !ok {
		return nil, invalidArg("Invalid ShardIterator.")
	}

	c.mu.RLock()
	s := c.byID[it.stream]
	var sh *shard
	if s != nil && it.shard < uint64(len(s.shards)) {
		sh = s.shards[it.shard]
	}
	c.mu.RUnlock()
	if sh == nil {
		return nil, notFound("The stream of the shard iterator under account %s does not exist.", c.cfg.account)
	}
	if in.StreamARN != nil && *in.StreamARN != s.arn {
		return nil, invalidArg("StreamARN %s does not match the stream of the shard iterator.", *in.StreamARN)
	}

	now := c.cfg.now()
	issued := it.issued()
	if it.epoch < c.epoch.Load() || !now.Before(issued.Add(iteratorTTL)) {
		return nil, &types.ExpiredIteratorException{Message: ptr(
			"Iterator expired. The iterator was created at time " + issued.UTC().Format(time.RFC3339Nano) +
				" while right now it is " + now.UTC().Format(time.RFC3339Nano) +
				" which is further in the future than the tolerated delay of 300000 milliseconds.")}
	}
	if c.cfg.readRate > 0 && !sh.allowRead(now, c.cfg.readRate) {
		return nil, &types.ProvisionedThroughputExceededException{Message: ptr(
			"Rate exceeded for shard " + sh.id + " in stream " + s.name + " under account " + c.cfg.account + ".")}
	}

	r := new(getRecordsResult)
	sh.mu.RLock()
	n := sh.log.len()
	from := min(int(it.pos), n)
	to := min(from+limit, n)
	if base := sh.log.bytesBefore(from); sh.log.bytesBefore(to)-base > maxGetRecordsBytes {
		// The largest end within 10 MiB, but at least one record.
		to = from + sort.Search(to-from, func(k int) bool { return sh.log.bytesBefore(from+k+1)-base > maxGetRecordsBytes })
		to = max(to, from+1)
	}
	if to > from {
		r.out.Records = make([]types.Record, to-from)
		sh.log.copyTo(r.out.Records, from)
	} else {
		r.out.Records = []types.Record{}
	}
	var behind time.Time
	if to < n {
		behind = *sh.log.at(to).ApproximateArrivalTimestamp
	}
	closed, children := sh.closed, sh.children
	sh.mu.RUnlock()

	r.out.MillisBehindLatest = &r.millis
	if to < n {
		r.millis = max(now.Sub(behind).Milliseconds(), 1)
	}
	if closed && to == n {
		r.out.ChildShards = childShards(sh, children)
		return &r.out, nil
	}
	r.next = c.encodeIterator(s.id, sh.idx, to, now)
	r.out.NextShardIterator = &r.next
	return &r.out, nil
}

// allowRead reports whether a GetRecords call at now fits in the shard's
// read rate, and if so records it.
func (sh *shard) allowRead(now time.Time, rate int) bool {
	sh.rateMu.Lock()
	defer sh.rateMu.Unlock()
	if len(sh.reads) < rate {
		sh.reads = append(sh.reads, now)
		return true
	}
	// reads[next] is the oldest of the last rate calls.
	if now.Sub(sh.reads[sh.next]) < time.Second {
		return false
	}
	sh.reads[sh.next] = now
	sh.next = (sh.next + 1) % rate
	return true
}

func childShards(parent *shard, children []*shard) []types.ChildShard {
	out := make([]types.ChildShard, len(children))
	for i, ch := range children {
		parents := []string{ch.parent}
		if ch.adjParent != "" {
			parents = append(parents, ch.adjParent)
		}
		out[i] = types.ChildShard{
			ShardId:      ptr(ch.id),
			ParentShards: parents,
			HashKeyRange: &types.HashKeyRange{StartingHashKey: ptr(ch.startKey), EndingHashKey: ptr(ch.endKey)},
		}
	}
	return out
}

// Records returns a copy of the records stored in a shard of stream (a name
// or an ARN), oldest first, for assertions in tests. Their Data and pointer
// fields are shared with the Client: treat them as read-only. Errors are the
// bare SDK exception types. It is neither counted by Calls nor subject to
// injected faults, and it is safe for concurrent use.
func (c *Client) Records(stream, shardID string) ([]types.Record, error) {
	name, arn := nameOrARN(stream)
	c.mu.RLock()
	s, err := c.resolveLocked(name, arn)
	if err != nil {
		c.mu.RUnlock()
		return nil, err
	}
	sh, err := c.shardLocked(s, shardID)
	c.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	out := make([]types.Record, sh.log.len())
	sh.log.copyTo(out, 0)
	return out, nil
}

// iterator is the content of a shard iterator string.
type iterator struct {
	stream, shard, pos uint64
	sec                int64 // issue time on the Clock: Unix seconds
	nsec               uint64
	epoch              uint64
}

func (it iterator) issued() time.Time { return time.Unix(it.sec, int64(it.nsec)) }

const iteratorLen = 7 * 16

// encodeIterator returns an opaque iterator: six fields and a check value,
// each as 16 hex digits, so decoding needs no allocation and a mistyped or
// truncated string is rejected as Kinesis rejects it. The issue time is
// kept as seconds and nanoseconds, which any Clock time fits.
func (c *Client) encodeIterator(streamID uint64, shardIdx, pos int, now time.Time) string {
	it := iterator{streamID, uint64(shardIdx), uint64(pos), now.Unix(), uint64(now.Nanosecond()), c.epoch.Load()}
	var buf [iteratorLen]byte
	for i, v := range [7]uint64{it.stream, it.shard, it.pos, uint64(it.sec), it.nsec, it.epoch, it.check()} {
		const hexDigits = "0123456789ABCDEF"
		for j := 15; j >= 0; j-- {
			buf[i*16+j] = hexDigits[v&0xf]
			v >>= 4
		}
	}
	return string(buf[:])
}

func decodeIterator(s string) (iterator, bool) {
	if len(s) != iteratorLen {
		return iterator{}, false
	}
	var f [7]uint64
	for i := range len(s) {
		ch := s[i]
		var d byte
		switch {
		case '0' <= ch && ch <= '9':
			d = ch - '0'
		case 'A' <= ch && ch <= 'F':
			d = ch - 'A' + 10
		default:
			return iterator{}, false
		}
		f[i/16] = f[i/16]<<4 | uint64(d)
	}
	it := iterator{f[0], f[1], f[2], int64(f[3]), f[4], f[5]}
	return it, it.check() == f[6]
}

// check is a keyed mix of the fields, so that a corrupted iterator fails.
func (it iterator) check() uint64 {
	h := uint64(0x9E3779B97F4A7C15)
	for _, v := range [6]uint64{it.stream, it.shard, it.pos, uint64(it.sec), it.nsec, it.epoch} {
		h ^= v
		h *= 0xBF58476D1CE4E5B9
		h ^= h >> 31
	}
	return h
}
