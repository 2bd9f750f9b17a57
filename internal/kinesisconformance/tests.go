package kinesisconformance

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// A new stream is ACTIVE with the shards asked for, open, without parents,
// tiling the hash key space.
func testCreateStream(t *testing.T, s *suite) {
	name, arn := s.createStream(t, 3)
	if !strings.HasPrefix(arn, "arn:aws:kinesis:") || !strings.HasSuffix(arn, ":stream/"+name) {
		t.Errorf("StreamARN: got %q, want arn:aws:kinesis:…:stream/%s", arn, name)
	}
	out, err := s.c.DescribeStreamSummary(s.ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToInt32(out.StreamDescriptionSummary.OpenShardCount); got != 3 {
		t.Errorf("OpenShardCount: got %d, want 3", got)
	}
	shards := s.listShards(t, name)
	if len(shards) != 3 || len(openShards(shards)) != 3 {
		t.Fatalf("ListShards: got %d shards (%d open), want 3 open", len(shards), len(openShards(shards)))
	}
	checkTiling(t, shards)
	for _, sh := range shards {
		if sh.ParentShardId != nil || sh.AdjacentParentShardId != nil {
			t.Errorf("shard %s of a new stream has parents %v/%v", aws.ToString(sh.ShardId), aws.ToString(sh.ParentShardId), aws.ToString(sh.AdjacentParentShardId))
		}
		if sh.SequenceNumberRange == nil || aws.ToString(sh.SequenceNumberRange.StartingSequenceNumber) == "" {
			t.Errorf("shard %s has no StartingSequenceNumber", aws.ToString(sh.ShardId))
		}
	}
}

// A record goes to the shard whose range holds the MD5 of its partition
// key (or its ExplicitHashKey); sequence numbers increase within a shard;
// GetRecords returns data, key and sequence number as put.
func testPutRouting(t *testing.T, s *suite) {
	name, _ := s.createStream(t, 2)
	shards := s.listShards(t, name)
	recs := s.putRecords(t, name, "route", 40, "")
	for _, r := range recs {
		if sh := findShard(t, shards, r.ShardID); !inRange(t, sh, hashKey(r.Key)) {
			t.Errorf("key %s went to shard %s, whose range does not hold its hash", r.Key, r.ShardID)
		}
	}
	for _, sh := range shards {
		id := aws.ToString(sh.ShardId)
		out, err := s.c.PutRecord(s.ctx, &kinesis.PutRecordInput{StreamName: aws.String(name), PartitionKey: aws.String("explicit"),
			Data: []byte("explicit"), ExplicitHashKey: sh.HashKeyRange.EndingHashKey})
		if err != nil {
			t.Fatalf("PutRecord: %v", err)
		}
		if got := aws.ToString(out.ShardId); got != id {
			t.Errorf("ExplicitHashKey %s (end of %s) went to %s", aws.ToString(sh.HashKeyRange.EndingHashKey), id, got)
		}
		recs = append(recs, put{Key: "explicit", Data: "explicit", ShardID: id, Seq: aws.ToString(out.SequenceNumber)})
	}
	for _, sh := range shards {
		id := aws.ToString(sh.ShardId)
		var want []put
		for _, r := range recs {
			if r.ShardID == id {
				if len(want) > 0 && num(t, want[len(want)-1].Seq).Cmp(num(t, r.Seq)) >= 0 {
					t.Errorf("shard %s: sequence number %s after %s", id, r.Seq, want[len(want)-1].Seq)
				}
				want = append(want, r)
			}
		}
		got, _ := s.read(t, s.iterator(t, name, id, types.ShardIteratorTypeTrimHorizon, "", nil), len(want), 0)
		checkRecords(t, got, want)
	}
}

// Every operation accepts StreamARN in place of StreamName.
func testStreamARN(t *testing.T, s *suite) {
	_, arn := s.createStream(t, 1)
	ls, err := s.c.ListShards(s.ctx, &kinesis.ListShardsInput{StreamARN: aws.String(arn)})
	if !s.caps.StreamARN {
		t.Logf("capability StreamARN off: ListShards by StreamARN: %v", err)
		if err == nil {
			t.Errorf("ListShards by StreamARN succeeded on a server said not to accept StreamARN")
		}
		return
	}
	if err != nil {
		t.Fatalf("ListShards by StreamARN: %v", err)
	}
	id := aws.ToString(ls.Shards[0].ShardId)
	if _, err := s.c.DescribeStreamSummary(s.ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: aws.String(arn)}); err != nil {
		t.Errorf("DescribeStreamSummary by StreamARN: %v", err)
	}
	p, err := s.c.PutRecord(s.ctx, &kinesis.PutRecordInput{StreamARN: aws.String(arn), PartitionKey: aws.String("k"), Data: []byte("by arn")})
	if err != nil {
		t.Fatalf("PutRecord by StreamARN: %v", err)
	}
	it, err := s.c.GetShardIterator(s.ctx, &kinesis.GetShardIteratorInput{StreamARN: aws.String(arn), ShardId: aws.String(id),
		ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatalf("GetShardIterator by StreamARN: %v", err)
	}
	out, err := s.c.GetRecords(s.ctx, &kinesis.GetRecordsInput{StreamARN: aws.String(arn), ShardIterator: it.ShardIterator})
	if err != nil {
		t.Fatalf("GetRecords with StreamARN: %v", err)
	}
	checkRecords(t, out.Records, []put{{Key: "k", Data: "by arn", Seq: aws.ToString(p.SequenceNumber)}})
}

// An unknown stream or shard is ResourceNotFoundException.
func testResourceNotFound(t *testing.T, s *suite) {
	missing := aws.String(streamName())
	ctx := s.ctx
	_, err := s.c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: missing})
	wantErr[*types.ResourceNotFoundException](t, "DescribeStreamSummary of an unknown stream", err)
	_, err = s.c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: missing})
	wantErr[*types.ResourceNotFoundException](t, "ListShards of an unknown stream", err)
	_, err = s.c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: missing, PartitionKey: aws.String("k"), Data: []byte("x")})
	wantErr[*types.ResourceNotFoundException](t, "PutRecord to an unknown stream", err)
	_, err = s.c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: missing, ShardId: aws.String("shardId-000000000000"),
		ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	wantErr[*types.ResourceNotFoundException](t, "GetShardIterator on an unknown stream", err)

	name, _ := s.createStream(t, 1)
	_, err = s.c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: aws.String("shardId-000000000099"),
		ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	wantErr[*types.ResourceNotFoundException](t, "GetShardIterator on an unknown shard", err)
}

// Invalid arguments are InvalidArgumentException.
func testInvalidArgument(t *testing.T, s *suite) {
	name, _ := s.createStream(t, 3)
	shards := s.listShards(t, name)
	ctx := s.ctx
	recs := s.putRecords(t, name, "inv", 1, aws.ToString(shards[0].HashKeyRange.StartingHashKey))

	future := time.Now().Add(24 * time.Hour)
	_, err := s.c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: shards[0].ShardId,
		ShardIteratorType: types.ShardIteratorTypeAtTimestamp, Timestamp: &future})
	wantErr[*types.InvalidArgumentException](t, "GetShardIterator AT_TIMESTAMP a day in the future", err)

	byStart := func(i int) types.Shard {
		for _, sh := range shards {
			if aws.ToString(sh.HashKeyRange.StartingHashKey) == "0" && i == 0 {
				return sh
			}
			if aws.ToString(sh.HashKeyRange.EndingHashKey) == maxHashKey.String() && i == 2 {
				return sh
			}
		}
		t.Fatalf("no shard at end %d of the hash key space", i)
		return types.Shard{}
	}
	_, err = s.c.MergeShards(ctx, &kinesis.MergeShardsInput{StreamName: aws.String(name), ShardToMerge: byStart(0).ShardId,
		AdjacentShardToMerge: byStart(2).ShardId})
	wantErr[*types.InvalidArgumentException](t, "MergeShards of two shards that are not adjacent", err)

	_, err = s.c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(strings.Repeat("A", 120))})
	if s.caps.InvalidIteratorError {
		wantErr[*types.InvalidArgumentException](t, "GetRecords with a malformed iterator", err)
	} else {
		t.Logf("capability InvalidIteratorError off: GetRecords with a malformed iterator: %v", err)
		if err == nil {
			t.Errorf("GetRecords with a malformed iterator succeeded")
		}
	}
	// Last: a server without StrictArguments may split here.
	_, err = s.c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(name), ShardId: shards[1].ShardId,
		ShardIteratorType: types.ShardIteratorTypeAfterSequenceNumber, StartingSequenceNumber: aws.String(recs[0].Seq)})
	s.wantStrict(t, "GetShardIterator with another shard's sequence number", err)

	_, err = s.c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String(name), ShardToSplit: shards[0].ShardId,
		NewStartingHashKey: shards[0].HashKeyRange.StartingHashKey})
	s.wantStrict(t, "SplitShard at the shard's own starting hash key", err)

}

// wantStrict checks an argument error that only StrictArguments promises.
func (s *suite) wantStrict(t *testing.T, what string, err error) {
	t.Helper()
	if s.caps.StrictArguments {
		wantErr[*types.InvalidArgumentException](t, what, err)
		return
	}
	t.Logf("capability StrictArguments off: %s: %v", what, err)
}

// An iterator expires five minutes after GetShardIterator or GetRecords
// issued it: ExpiredIteratorException.
func testExpiredIterator(t *testing.T, s *suite) {
	name, _ := s.createStream(t, 1)
	id := aws.ToString(s.listShards(t, name)[0].ShardId)
	if !s.caps.FakeClock {
		// The servers' iterators live a fixed 300 s; the mapping tests reach
		// this path through injected ExpiredIteratorException responses.
		t.Logf("capability FakeClock off: iterator expiry (300 s) not waited for")
		return
	}
	recs := s.putRecords(t, name, "exp", 2, "")
	old := s.iterator(t, name, id, types.ShardIteratorTypeTrimHorizon, "", nil)
	s.h.Sleep(299 * time.Second)
	out, err := s.c.GetRecords(s.ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(old), Limit: aws.Int32(1)})
	if err != nil {
		t.Fatalf("GetRecords with a 299 s old iterator: %v", err)
	}
	checkRecords(t, out.Records, recs[:1])
	s.h.Sleep(2 * time.Second)
	_, err = s.c.GetRecords(s.ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(old)})
	wantErr[*types.ExpiredIteratorException](t, "GetRecords with a 301 s old iterator", err)
	got, _ := s.read(t, aws.ToString(out.NextShardIterator), 1, 0)
	checkRecords(t, got, recs[1:])
}

// TRIM_HORIZON starts at the oldest record, every time.
func testTrimHorizon(t *testing.T, s *suite) {
	name, _ := s.createStream(t, 1)
	id := aws.ToString(s.listShards(t, name)[0].ShardId)
	recs := s.putRecords(t, name, "th", 5, "")
	for range 2 {
		got, _ := s.read(t, s.iterator(t, name, id, types.ShardIteratorTypeTrimHorizon, "", nil), len(recs), 0)
		checkRecords(t, got, recs)
	}
}

// LATEST starts just after the newest record.
func testLatest(t *testing.T, s *suite) {
	name, _ := s.createStream(t, 1)
	id := aws.ToString(s.listShards(t, name)[0].ShardId)
	s.putRecords(t, name, "old", 3, "")
	it := s.iterator(t, name, id, types.ShardIteratorTypeLatest, "", nil)
	out, err := s.c.GetRecords(s.ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(it)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Records) != 0 {
		t.Errorf("LATEST: got %d records before any new put, want 0", len(out.Records))
	}
	recs := s.putRecords(t, name, "new", 2, "")
	got, _ := s.read(t, aws.ToString(out.NextShardIterator), len(recs), 0)
	checkRecords(t, got, recs)
}

// AT_SEQUENCE_NUMBER starts at the record, AFTER_SEQUENCE_NUMBER just after.
func testAtAfterSequenceNumber(t *testing.T, s *suite) {
	name, _ := s.createStream(t, 1)
	id := aws.ToString(s.listShards(t, name)[0].ShardId)
	recs := s.putRecords(t, name, "seq", 6, "")
	tests := []struct {
		typ  types.ShardIteratorType
		at   int
		want []put
	}{
		{types.ShardIteratorTypeAtSequenceNumber, 0, recs},
		{types.ShardIteratorTypeAtSequenceNumber, 2, recs[2:]},
		{types.ShardIteratorTypeAfterSequenceNumber, 2, recs[3:]},
		{types.ShardIteratorTypeAtSequenceNumber, 5, recs[5:]},
		{types.ShardIteratorTypeAfterSequenceNumber, 5, nil},
	}
	for _, tc := range tests {
		it := s.iterator(t, name, id, tc.typ, recs[tc.at].Seq, nil)
		if len(tc.want) == 0 {
			out, err := s.c.GetRecords(s.ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(it)})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Records) != 0 {
				t.Errorf("%s record %d: got %d records, want 0", tc.typ, tc.at, len(out.Records))
			}
			continue
		}
		got, _ := s.read(t, it, len(tc.want), 0)
		checkRecords(t, got, tc.want)
	}
}

// AT_TIMESTAMP starts at the first record that arrived at or after the
// timestamp; one older than the stream behaves as TRIM_HORIZON.
func testAtTimestamp(t *testing.T, s *suite) {
	name, _ := s.createStream(t, 1)
	id := aws.ToString(s.listShards(t, name)[0].ShardId)
	before := s.putRecords(t, name, "before", 3, "")
	s.h.Sleep(100 * time.Millisecond)
	after := s.putRecords(t, name, "after", 3, "")
	all, _ := s.read(t, s.iterator(t, name, id, types.ShardIteratorTypeTrimHorizon, "", nil), 6, 0)
	checkRecords(t, all, append(append([]put(nil), before...), after...))
	if t.Failed() {
		return
	}
	ts := *all[3].ApproximateArrivalTimestamp
	if !all[2].ApproximateArrivalTimestamp.Before(ts) {
		t.Fatalf("arrival times %v and %v of records put 100 ms apart are not ordered", *all[2].ApproximateArrivalTimestamp, ts)
	}
	got, _ := s.read(t, s.iterator(t, name, id, types.ShardIteratorTypeAtTimestamp, "", &ts), 3, 0)
	checkRecords(t, got, after)

	// Between the two batches: still the first record of the second.
	mid := all[2].ApproximateArrivalTimestamp.Add(ts.Sub(*all[2].ApproximateArrivalTimestamp) / 2)
	got, _ = s.read(t, s.iterator(t, name, id, types.ShardIteratorTypeAtTimestamp, "", &mid), 3, 0)
	checkRecords(t, got, after)

	old := all[0].ApproximateArrivalTimestamp.Add(-time.Hour)
	got, _ = s.read(t, s.iterator(t, name, id, types.ShardIteratorTypeAtTimestamp, "", &old), 6, 0)
	checkRecords(t, got, append(append([]put(nil), before...), after...))

	if !s.caps.AtTimestampPastTip {
		t.Logf("capability AtTimestampPastTip off: AT_TIMESTAMP after the newest record not asked for")
		return
	}
	s.h.Sleep(50 * time.Millisecond)
	late := all[5].ApproximateArrivalTimestamp.Add(time.Millisecond)
	out, err := s.c.GetRecords(s.ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(s.iterator(t, name, id, types.ShardIteratorTypeAtTimestamp, "", &late))})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Records) != 0 {
		t.Errorf("AT_TIMESTAMP after the newest record: got %d records, want 0", len(out.Records))
	}
}

// GetRecords returns at most Limit records; Limit is 1–10,000.
func testLimit(t *testing.T, s *suite) {
	name, _ := s.createStream(t, 1)
	id := aws.ToString(s.listShards(t, name)[0].ShardId)
	recs := s.putRecords(t, name, "lim", 10, "")
	it := s.iterator(t, name, id, types.ShardIteratorTypeTrimHorizon, "", nil)
	var got []types.Record
	calls := 0
	for len(got) < len(recs) && calls < maxCalls {
		out, err := s.c.GetRecords(s.ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(it), Limit: aws.Int32(3)})
		if err != nil {
			t.Fatal(err)
		}
		calls++
		if len(out.Records) > 3 {
			t.Errorf("Limit 3: got %d records", len(out.Records))
		}
		got = append(got, out.Records...)
		it = aws.ToString(out.NextShardIterator)
	}
	checkRecords(t, got, recs)
	if calls < 4 {
		t.Errorf("10 records with Limit 3 took %d calls, want at least 4", calls)
	}

	it = s.iterator(t, name, id, types.ShardIteratorTypeTrimHorizon, "", nil)
	out, err := s.c.GetRecords(s.ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(it), Limit: aws.Int32(10000)})
	if err != nil {
		t.Fatalf("Limit 10000: %v", err)
	}
	if len(out.Records) == 0 {
		t.Errorf("Limit 10000: got no records, want up to 10")
	}
	for _, limit := range []int32{10001, 0} {
		_, err := s.c.GetRecords(s.ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(it), Limit: aws.Int32(limit)})
		what := "GetRecords Limit " + strconv.Itoa(int(limit))
		switch {
		case s.caps.LimitInvalidArgument:
			wantErr[*types.InvalidArgumentException](t, what, err)
		case err == nil:
			t.Errorf("%s: no error", what)
		default:
			t.Logf("capability LimitInvalidArgument off: %s: %v", what, err)
		}
	}
}

// MillisBehindLatest is positive while a response stops short of the
// newest record and 0 at the tip.
func testMillisBehindLatest(t *testing.T, s *suite) {
	name, _ := s.createStream(t, 1)
	id := aws.ToString(s.listShards(t, name)[0].ShardId)
	recs := s.putRecords(t, name, "mbl", 3, "")
	s.h.Sleep(200 * time.Millisecond)
	recs = append(recs, s.putRecords(t, name, "tip", 2, "")...)
	it := s.iterator(t, name, id, types.ShardIteratorTypeTrimHorizon, "", nil)
	out, err := s.c.GetRecords(s.ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(it), Limit: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	if out.MillisBehindLatest == nil {
		t.Fatalf("GetRecords: no MillisBehindLatest")
	}
	if behind := *out.MillisBehindLatest; s.caps.MillisBehindLatest && behind <= 0 {
		t.Errorf("1 of 5 records read: MillisBehindLatest %d, want > 0", behind)
	} else if !s.caps.MillisBehindLatest {
		t.Logf("capability MillisBehindLatest off: 1 of 5 records read, the tip 200 ms later: MillisBehindLatest %d", behind)
	}
	got, last := s.read(t, aws.ToString(out.NextShardIterator), len(recs)-1, 0)
	checkRecords(t, got, recs[1:])
	out, err = s.c.GetRecords(s.ctx, &kinesis.GetRecordsInput{ShardIterator: last.NextShardIterator})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []*kinesis.GetRecordsOutput{last, out} {
		if got := aws.ToInt64(o.MillisBehindLatest); got != 0 {
			t.Errorf("at the tip: MillisBehindLatest %d, want 0", got)
		}
	}
}

// checkClosedEnd reads a closed shard from TRIM_HORIZON to its end: it
// must return want, end with NextShardIterator nil and, where supported,
// list children in ChildShards, each naming parents.
func (s *suite) checkClosedEnd(t *testing.T, name string, closed types.Shard, want []put, children []string, parents []string) {
	t.Helper()
	id := aws.ToString(closed.ShardId)
	got, last := s.read(t, s.iterator(t, name, id, types.ShardIteratorTypeTrimHorizon, "", nil), -1, 0)
	checkRecords(t, got, want)
	if end := closed.SequenceNumberRange.EndingSequenceNumber; end == nil {
		t.Errorf("closed shard %s has no EndingSequenceNumber", id)
	} else if s.caps.EndingSequenceNumber {
		if len(want) > 0 && num(t, *end).Cmp(num(t, want[len(want)-1].Seq)) < 0 {
			t.Errorf("closed shard %s: EndingSequenceNumber %s before its last record %s", id, *end, want[len(want)-1].Seq)
		}
	} else {
		t.Logf("capability EndingSequenceNumber off: shard %s ends at %s, last record %v", id, *end, want[len(want)-1].Seq)
	}
	if !s.caps.ChildShards {
		t.Logf("capability ChildShards off: end of %s listed %d children", id, len(last.ChildShards))
		return
	}
	var gotChildren []string
	for _, c := range last.ChildShards {
		gotChildren = append(gotChildren, aws.ToString(c.ShardId))
		ps := append([]string(nil), c.ParentShards...)
		slices.Sort(ps)
		if strings.Join(ps, ",") != strings.Join(parents, ",") {
			t.Errorf("ChildShards of %s: child %s has parents %v, want %v", id, aws.ToString(c.ShardId), c.ParentShards, parents)
		}
		if c.HashKeyRange == nil {
			t.Errorf("ChildShards of %s: child %s has no HashKeyRange", id, aws.ToString(c.ShardId))
		}
	}
	slices.Sort(gotChildren)
	if strings.Join(gotChildren, ",") != strings.Join(children, ",") {
		t.Errorf("ChildShards at the end of %s: got %v, want %v", id, gotChildren, children)
	}
}

// SplitShard closes a shard and makes two children, which name it as
// ParentShardId, split its range at NewStartingHashKey, and take new puts.
func testSplit(t *testing.T, s *suite) {
	name, _ := s.createStream(t, 1)
	parent := s.listShards(t, name)[0]
	pid := aws.ToString(parent.ShardId)
	recs := s.putRecords(t, name, "split", 5, "")
	mid := midpoint(t, parent)
	if _, err := s.c.SplitShard(s.ctx, &kinesis.SplitShardInput{StreamName: aws.String(name), ShardToSplit: parent.ShardId, NewStartingHashKey: aws.String(mid)}); err != nil {
		t.Fatalf("SplitShard: %v", err)
	}
	s.waitActive(t, name)
	shards := s.listShards(t, name)
	if len(shards) != 3 {
		t.Fatalf("after a split: got %d shards, want 3", len(shards))
	}
	parent = findShard(t, shards, pid)
	children := openShards(shards)
	if len(children) != 2 {
		t.Fatalf("after a split: got %d open shards, want 2", len(children))
	}
	checkTiling(t, children)
	for _, c := range children {
		cid := aws.ToString(c.ShardId)
		if aws.ToString(c.ParentShardId) != pid || c.AdjacentParentShardId != nil {
			t.Errorf("child %s: parents %q/%q, want %q and none", cid, aws.ToString(c.ParentShardId), aws.ToString(c.AdjacentParentShardId), pid)
		}
		start := aws.ToString(c.HashKeyRange.StartingHashKey)
		if start != "0" && start != mid {
			t.Errorf("child %s starts at hash key %s, want 0 or %s", cid, start, mid)
		}
		if first := aws.ToString(c.SequenceNumberRange.StartingSequenceNumber); num(t, first).Cmp(num(t, recs[len(recs)-1].Seq)) <= 0 {
			t.Errorf("child %s: StartingSequenceNumber %s not after the parent's last record %s", cid, first, recs[len(recs)-1].Seq)
		}
		// New records go to the child whose range holds them.
		p := s.putRecords(t, name, "child", 1, start)
		if p[0].ShardID != cid {
			t.Errorf("ExplicitHashKey %s after the split went to %s, want %s", start, p[0].ShardID, cid)
		}
	}
	s.checkClosedEnd(t, name, parent, recs, ids(children), []string{pid})

	// A closed shard still gives an iterator; read from LATEST, it ends.
	_, last := s.read(t, s.iterator(t, name, pid, types.ShardIteratorTypeLatest, "", nil), -1, 0)
	if len(last.Records) != 0 {
		t.Errorf("LATEST on a closed shard: got %d records, want 0", len(last.Records))
	}
}

// MergeShards closes two adjacent shards and makes one child with
// ParentShardId and AdjacentParentShardId.
func testMerge(t *testing.T, s *suite) {
	name, _ := s.createStream(t, 2)
	shards := s.listShards(t, name)
	a, b := shards[0], shards[1]
	ra := s.putRecords(t, name, "a", 3, aws.ToString(a.HashKeyRange.StartingHashKey))
	rb := s.putRecords(t, name, "b", 3, aws.ToString(b.HashKeyRange.StartingHashKey))
	if _, err := s.c.MergeShards(s.ctx, &kinesis.MergeShardsInput{StreamName: aws.String(name), ShardToMerge: a.ShardId, AdjacentShardToMerge: b.ShardId}); err != nil {
		t.Fatalf("MergeShards: %v", err)
	}
	s.waitActive(t, name)
	shards = s.listShards(t, name)
	open := openShards(shards)
	if len(shards) != 3 || len(open) != 1 {
		t.Fatalf("after a merge: got %d shards, %d open; want 3, 1 open", len(shards), len(open))
	}
	child := open[0]
	cid := aws.ToString(child.ShardId)
	if aws.ToString(child.ParentShardId) != aws.ToString(a.ShardId) || aws.ToString(child.AdjacentParentShardId) != aws.ToString(b.ShardId) {
		t.Errorf("merged shard %s: parents %q/%q, want %q/%q", cid, aws.ToString(child.ParentShardId), aws.ToString(child.AdjacentParentShardId),
			aws.ToString(a.ShardId), aws.ToString(b.ShardId))
	}
	checkTiling(t, open)
	parents := ids([]types.Shard{a, b})
	s.checkClosedEnd(t, name, findShard(t, shards, aws.ToString(a.ShardId)), ra, []string{cid}, parents)
	s.checkClosedEnd(t, name, findShard(t, shards, aws.ToString(b.ShardId)), rb, []string{cid}, parents)
	if p := s.putRecords(t, name, "merged", 1, ""); p[0].ShardID != cid {
		t.Errorf("a put after the merge went to %s, want %s", p[0].ShardID, cid)
	}
}

// UpdateShardCount with UNIFORM_SCALING reaches the target count; every
// new shard descends from the old ones, which are closed.
func testUpdateShardCount(t *testing.T, s *suite) {
	name, _ := s.createStream(t, 2)
	u, ok := s.c.(ShardCountUpdater)
	if !s.caps.UpdateShardCount {
		if !ok {
			t.Logf("capability UpdateShardCount off: the client has no UpdateShardCount method")
			return
		}
		_, err := u.UpdateShardCount(s.ctx, &kinesis.UpdateShardCountInput{StreamName: aws.String(name), TargetShardCount: aws.Int32(4), ScalingType: types.ScalingTypeUniformScaling})
		t.Logf("capability UpdateShardCount off: UpdateShardCount: %v", err)
		if err == nil {
			t.Errorf("UpdateShardCount succeeded on a server said not to support it")
		}
		return
	}
	if !ok {
		t.Fatalf("capability UpdateShardCount on, but %T has no UpdateShardCount method", s.c)
	}
	old := s.listShards(t, name)
	recs := s.putRecords(t, name, "usc", 20, "")
	out, err := u.UpdateShardCount(s.ctx, &kinesis.UpdateShardCountInput{StreamName: aws.String(name), TargetShardCount: aws.Int32(4), ScalingType: types.ScalingTypeUniformScaling})
	if err != nil {
		t.Fatalf("UpdateShardCount: %v", err)
	}
	if aws.ToInt32(out.CurrentShardCount) != 2 || aws.ToInt32(out.TargetShardCount) != 4 {
		t.Errorf("UpdateShardCount: got CurrentShardCount %d, TargetShardCount %d; want 2, 4", aws.ToInt32(out.CurrentShardCount), aws.ToInt32(out.TargetShardCount))
	}
	s.waitActive(t, name)
	shards := s.listShards(t, name)
	open := openShards(shards)
	if len(open) != 4 {
		t.Fatalf("after UpdateShardCount 4: got %d open shards, want 4", len(open))
	}
	checkTiling(t, open)
	byID := map[string]types.Shard{}
	for _, sh := range shards {
		byID[aws.ToString(sh.ShardId)] = sh
	}
	origin := map[string]bool{}
	for _, sh := range old {
		origin[aws.ToString(sh.ShardId)] = true
	}
	// Every open shard's lineage ends in the old shards, each parent closed.
	for _, sh := range open {
		queue := []types.Shard{sh}
		for len(queue) > 0 {
			cur := queue[0]
			queue = queue[1:]
			cid := aws.ToString(cur.ShardId)
			if origin[cid] {
				continue
			}
			if cur.ParentShardId == nil {
				t.Errorf("shard %s made by UpdateShardCount has no ParentShardId", cid)
				continue
			}
			for _, p := range []*string{cur.ParentShardId, cur.AdjacentParentShardId} {
				if p == nil {
					continue
				}
				ps, ok := byID[*p]
				if !ok {
					t.Errorf("shard %s: parent %s not listed", cid, *p)
					continue
				}
				if ps.SequenceNumberRange.EndingSequenceNumber == nil {
					t.Errorf("shard %s: parent %s is not closed", cid, *p)
				}
				queue = append(queue, ps)
			}
		}
	}
	for _, sh := range old {
		id := aws.ToString(sh.ShardId)
		var want []put
		for _, r := range recs {
			if r.ShardID == id {
				want = append(want, r)
			}
		}
		got, last := s.read(t, s.iterator(t, name, id, types.ShardIteratorTypeTrimHorizon, "", nil), -1, 0)
		checkRecords(t, got, want)
		if s.caps.ChildShards && len(last.ChildShards) == 0 {
			t.Errorf("end of %s after UpdateShardCount: no ChildShards", id)
		}
	}
}

// ListShards returns at most MaxResults shards and a NextToken for the
// rest; a NextToken cannot be combined with StreamName.
func testListShardsPagination(t *testing.T, s *suite) {
	name, _ := s.createStream(t, 3)
	all := ids(s.listShards(t, name))
	var got []string
	in := &kinesis.ListShardsInput{StreamName: aws.String(name), MaxResults: aws.Int32(1)}
	var token *string
	for page := 0; ; page++ {
		if page > 10 {
			t.Fatalf("ListShards MaxResults 1: more than 10 pages for 3 shards")
		}
		out, err := s.c.ListShards(s.ctx, in)
		if err != nil {
			t.Fatalf("ListShards page %d: %v", page, err)
		}
		if len(out.Shards) > 1 {
			if s.caps.ListShardsPagination {
				t.Errorf("ListShards MaxResults 1: got %d shards", len(out.Shards))
			} else {
				t.Logf("capability ListShardsPagination off: MaxResults 1 returned %d shards, NextToken %v", len(out.Shards), out.NextToken != nil)
			}
		}
		got = append(got, ids(out.Shards)...)
		if out.NextToken == nil {
			break
		}
		token = out.NextToken
		in = &kinesis.ListShardsInput{NextToken: out.NextToken, MaxResults: aws.Int32(1)}
	}
	if strings.Join(got, ",") != strings.Join(all, ",") {
		t.Errorf("ListShards pages: got %v, want %v", got, all)
	}
	if !s.caps.ListShardsPagination {
		return
	}
	if token == nil {
		t.Fatalf("ListShards MaxResults 1 over 3 shards: no NextToken")
	}
	_, err := s.c.ListShards(s.ctx, &kinesis.ListShardsInput{StreamName: aws.String(name), NextToken: token})
	wantErr[*types.InvalidArgumentException](t, "ListShards with NextToken and StreamName", err)

	out, err := s.c.ListShards(s.ctx, &kinesis.ListShardsInput{StreamName: aws.String(name), ExclusiveStartShardId: aws.String(all[0])})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(ids(out.Shards), ","), strings.Join(all[1:], ","); got != want {
		t.Errorf("ListShards ExclusiveStartShardId %s: got %s, want %s", all[0], got, want)
	}
}

// ListShards' ShardFilter selects shards by position in the lineage.
func testShardFilter(t *testing.T, s *suite) {
	name, _ := s.createStream(t, 2)
	shards := s.listShards(t, name)
	first := shards[0]
	if _, err := s.c.SplitShard(s.ctx, &kinesis.SplitShardInput{StreamName: aws.String(name), ShardToSplit: first.ShardId, NewStartingHashKey: aws.String(midpoint(t, first))}); err != nil {
		t.Fatalf("SplitShard: %v", err)
	}
	s.waitActive(t, name)
	shards = s.listShards(t, name)
	all := ids(shards)
	if len(all) != 4 {
		t.Fatalf("after a split of 1 of 2 shards: got %d shards, want 4", len(all))
	}
	tests := []struct {
		filter types.ShardFilter
		want   []string
	}{
		{types.ShardFilter{Type: types.ShardFilterTypeAtLatest}, ids(openShards(shards))},
		{types.ShardFilter{Type: types.ShardFilterTypeFromTrimHorizon}, all},
		{types.ShardFilter{Type: types.ShardFilterTypeAfterShardId, ShardId: first.ShardId}, all[1:]},
		// AWS: "the response includes all the shards that were open at
		// TRIM_HORIZON"; nothing is trimmed yet, so the stream's first shards.
		{types.ShardFilter{Type: types.ShardFilterTypeAtTrimHorizon}, nil}, // set below
	}
	var initial []types.Shard
	for _, sh := range shards {
		if sh.ParentShardId == nil {
			initial = append(initial, sh)
		}
	}
	tests[3].want = ids(initial)
	for _, tc := range tests {
		out, err := s.c.ListShards(s.ctx, &kinesis.ListShardsInput{StreamName: aws.String(name), ShardFilter: &tc.filter})
		if err != nil {
			t.Errorf("ListShards ShardFilter %s: %v", tc.filter.Type, err)
			continue
		}
		got := strings.Join(ids(out.Shards), ",")
		want := strings.Join(tc.want, ",")
		switch {
		case got == want:
		case !s.caps.ShardFilter:
			t.Logf("capability ShardFilter off: ShardFilter %s: got %s, want %s", tc.filter.Type, got, want)
		case tc.filter.Type == types.ShardFilterTypeAtTrimHorizon && !s.caps.ShardFilterAtTrimHorizon:
			t.Logf("capability ShardFilterAtTrimHorizon off: got %s, want %s", got, want)
		default:
			t.Errorf("ListShards ShardFilter %s: got %s, want %s", tc.filter.Type, got, want)
		}
	}
}
