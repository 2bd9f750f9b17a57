package kinesistest_test

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/esmkit/esmkit/internal/seqnum"
	"github.com/esmkit/esmkit/kinesistest"
	"github.com/esmkit/esmkit/shard"
)

// api is every method Client implements; both the SDK client and the fake
// must satisfy it, which pins the signatures.
type api interface {
	CreateStream(context.Context, *kinesis.CreateStreamInput, ...func(*kinesis.Options)) (*kinesis.CreateStreamOutput, error)
	DeleteStream(context.Context, *kinesis.DeleteStreamInput, ...func(*kinesis.Options)) (*kinesis.DeleteStreamOutput, error)
	DescribeStream(context.Context, *kinesis.DescribeStreamInput, ...func(*kinesis.Options)) (*kinesis.DescribeStreamOutput, error)
	DescribeStreamSummary(context.Context, *kinesis.DescribeStreamSummaryInput, ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error)
	ListShards(context.Context, *kinesis.ListShardsInput, ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error)
	PutRecord(context.Context, *kinesis.PutRecordInput, ...func(*kinesis.Options)) (*kinesis.PutRecordOutput, error)
	PutRecords(context.Context, *kinesis.PutRecordsInput, ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error)
	GetShardIterator(context.Context, *kinesis.GetShardIteratorInput, ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error)
	GetRecords(context.Context, *kinesis.GetRecordsInput, ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error)
	SplitShard(context.Context, *kinesis.SplitShardInput, ...func(*kinesis.Options)) (*kinesis.SplitShardOutput, error)
	MergeShards(context.Context, *kinesis.MergeShardsInput, ...func(*kinesis.Options)) (*kinesis.MergeShardsOutput, error)
	UpdateMaxRecordSize(context.Context, *kinesis.UpdateMaxRecordSizeInput, ...func(*kinesis.Options)) (*kinesis.UpdateMaxRecordSizeOutput, error)
}

var (
	_ api          = (*kinesis.Client)(nil)
	_ api          = (*kinesistest.Client)(nil)
	_ shard.Client = (*kinesistest.Client)(nil)
)

// clock is a Clock a test advances by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const stream = "s"

// setup returns a Client on a fresh clock holding stream "s" with n shards.
func setup(t *testing.T, n int, opts ...kinesistest.Option) (*kinesistest.Client, *clock) {
	t.Helper()
	clk := newClock()
	c := kinesistest.New(append([]kinesistest.Option{kinesistest.Clock(clk.Now)}, opts...)...)
	if _, err := c.AddStream(stream, n); err != nil {
		t.Fatal(err)
	}
	return c, clk
}

func put(t *testing.T, c *kinesistest.Client, key, data string) (shardID, seq string) {
	t.Helper()
	shardID, seq, err := c.Put(context.Background(), stream, key, []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	return shardID, seq
}

func iter(t *testing.T, c *kinesistest.Client, in *kinesis.GetShardIteratorInput) *string {
	t.Helper()
	if in.StreamName == nil && in.StreamARN == nil {
		in.StreamName = ptr(stream)
	}
	out, err := c.GetShardIterator(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return out.ShardIterator
}

func get(t *testing.T, c *kinesistest.Client, it *string, limit int32) *kinesis.GetRecordsOutput {
	t.Helper()
	in := &kinesis.GetRecordsInput{ShardIterator: it}
	if limit > 0 {
		in.Limit = &limit
	}
	out, err := c.GetRecords(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func listShards(t *testing.T, c *kinesistest.Client, in *kinesis.ListShardsInput) *kinesis.ListShardsOutput {
	t.Helper()
	out, err := c.ListShards(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func ids(shards []types.Shard) []string {
	var out []string
	for _, s := range shards {
		out = append(out, *s.ShardId)
	}
	return out
}

func datas(recs []types.Record) []string {
	out := []string{}
	for _, r := range recs {
		out = append(out, string(r.Data))
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// wantErr fails t unless err wraps a *E.
func wantErr[E error](t *testing.T, err error) {
	t.Helper()
	var target E
	if !errors.As(err, &target) {
		t.Fatalf("got error %v, want %T", err, target)
	}
}

func TestCreateStream(t *testing.T) {
	two := new(big.Int).Lsh(big.NewInt(1), 128)
	for _, n := range []int{1, 2, 3, 7} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			c, _ := setup(t, n)
			got := listShards(t, c, &kinesis.ListShardsInput{StreamName: ptr(stream)}).Shards
			if len(got) != n {
				t.Fatalf("got %d shards, want %d", len(got), n)
			}
			size := new(big.Int).Div(two, big.NewInt(int64(n)))
			for i, s := range got {
				if want := fmt.Sprintf("shardId-%012d", i); *s.ShardId != want {
					t.Errorf("got shard ID %s, want %s", *s.ShardId, want)
				}
				wantStart := new(big.Int).Mul(size, big.NewInt(int64(i)))
				wantEnd := new(big.Int).Add(wantStart, size)
				if i == n-1 {
					wantEnd = new(big.Int).Set(two)
				}
				wantEnd.Sub(wantEnd, big.NewInt(1))
				if *s.HashKeyRange.StartingHashKey != wantStart.String() || *s.HashKeyRange.EndingHashKey != wantEnd.String() {
					t.Errorf("shard %d: got range [%s, %s], want [%s, %s]", i,
						*s.HashKeyRange.StartingHashKey, *s.HashKeyRange.EndingHashKey, wantStart, wantEnd)
				}
				if s.SequenceNumberRange.StartingSequenceNumber == nil || s.SequenceNumberRange.EndingSequenceNumber != nil {
					t.Errorf("shard %d: got sequence range %+v, want a start and no end", i, s.SequenceNumberRange)
				}
				if s.ParentShardId != nil || s.AdjacentParentShardId != nil {
					t.Errorf("shard %d: got parents, want none", i)
				}
			}
			sum, err := c.DescribeStreamSummary(context.Background(), &kinesis.DescribeStreamSummaryInput{StreamName: ptr(stream)})
			if err != nil {
				t.Fatal(err)
			}
			if d := sum.StreamDescriptionSummary; d.StreamStatus != types.StreamStatusActive || *d.OpenShardCount != int32(n) ||
				*d.StreamARN != "arn:aws:kinesis:us-east-1:123456789012:stream/s" {
				t.Errorf("got summary %s %d %s, want ACTIVE %d arn:aws:kinesis:us-east-1:123456789012:stream/s",
					d.StreamStatus, *d.OpenShardCount, *d.StreamARN, n)
			}
		})
	}
}

func TestCreateStreamErrors(t *testing.T) {
	tests := []struct {
		name  string
		in    *kinesis.CreateStreamInput
		check func(*testing.T, error)
	}{
		{"no name", &kinesis.CreateStreamInput{ShardCount: ptr(int32(1))}, wantErr[*types.InvalidArgumentException]},
		{"bad name", &kinesis.CreateStreamInput{StreamName: ptr("a/b"), ShardCount: ptr(int32(1))}, wantErr[*types.InvalidArgumentException]},
		{"zero shards", &kinesis.CreateStreamInput{StreamName: ptr("x"), ShardCount: ptr(int32(0))}, wantErr[*types.InvalidArgumentException]},
		{"no shard count", &kinesis.CreateStreamInput{StreamName: ptr("x")}, wantErr[*types.InvalidArgumentException]},
		{"too many shards", &kinesis.CreateStreamInput{StreamName: ptr("x"), ShardCount: ptr(int32(10001))}, wantErr[*types.LimitExceededException]},
		{"exists", &kinesis.CreateStreamInput{StreamName: ptr(stream), ShardCount: ptr(int32(1))}, wantErr[*types.ResourceInUseException]},
		{"record size", &kinesis.CreateStreamInput{StreamName: ptr("x"), ShardCount: ptr(int32(1)), MaxRecordSizeInKiB: ptr(int32(1023))}, wantErr[*types.ValidationException]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := setup(t, 1)
			_, err := c.CreateStream(context.Background(), tc.in)
			tc.check(t, err)
		})
	}

	c, _ := setup(t, 1)
	if _, err := c.CreateStream(context.Background(), &kinesis.CreateStreamInput{
		StreamName: ptr("od"), StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand},
	}); err != nil {
		t.Fatal(err)
	}
	if got := len(listShards(t, c, &kinesis.ListShardsInput{StreamName: ptr("od")}).Shards); got != 4 {
		t.Errorf("on-demand stream: got %d shards, want 4", got)
	}
}

func TestStreamAddressing(t *testing.T) {
	tests := []struct {
		name, streamName, arn string
		check                 func(*testing.T, error)
	}{
		{name: "name", streamName: stream},
		{name: "arn", arn: "arn:aws:kinesis:eu-west-1:111122223333:stream/s"},
		{name: "both", streamName: stream, arn: "arn:aws:kinesis:eu-west-1:111122223333:stream/s"},
		{name: "neither", check: wantErr[*types.InvalidArgumentException]},
		{name: "mismatch", streamName: "t", arn: "arn:aws:kinesis:eu-west-1:111122223333:stream/s", check: wantErr[*types.InvalidArgumentException]},
		{name: "malformed arn", arn: "arn:aws:sqs:eu-west-1:111122223333:q", check: wantErr[*types.InvalidArgumentException]},
		{name: "other region", arn: "arn:aws:kinesis:us-east-1:111122223333:stream/s", check: wantErr[*types.ResourceNotFoundException]},
		{name: "other account", arn: "arn:aws:kinesis:eu-west-1:123456789012:stream/s", check: wantErr[*types.ResourceNotFoundException]},
		{name: "unknown", streamName: "nope", check: wantErr[*types.ResourceNotFoundException]},
	}
	c, _ := setup(t, 1, kinesistest.Region("eu-west-1"), kinesistest.AccountID("111122223333"))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := &kinesis.ListShardsInput{}
			if tc.streamName != "" {
				in.StreamName = &tc.streamName
			}
			if tc.arn != "" {
				in.StreamARN = &tc.arn
			}
			_, err := c.ListShards(context.Background(), in)
			if tc.check == nil {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				return
			}
			tc.check(t, err)
		})
	}
}

func TestDeleteStream(t *testing.T) {
	c, _ := setup(t, 1)
	it := iter(t, c, &kinesis.GetShardIteratorInput{ShardId: ptr("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if _, err := c.DeleteStream(context.Background(), &kinesis.DeleteStreamInput{StreamName: ptr(stream)}); err != nil {
		t.Fatal(err)
	}
	_, err := c.DescribeStreamSummary(context.Background(), &kinesis.DescribeStreamSummaryInput{StreamName: ptr(stream)})
	wantErr[*types.ResourceNotFoundException](t, err)
	// An iterator of the deleted stream stays dead after the name is reused.
	if _, err := c.AddStream(stream, 1); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetRecords(context.Background(), &kinesis.GetRecordsInput{ShardIterator: it})
	wantErr[*types.ResourceNotFoundException](t, err)
}

func TestRoutingByMD5(t *testing.T) {
	// Each want is MD5(key) as a big-endian 128-bit integer, computed by
	// hand, divided by the 2^126-wide ranges of a 4-shard stream.
	tests := []struct {
		key, hash string
		want      string
	}{
		{"a", "16955237001963240173058271559858726497", "shardId-000000000000"},
		{"c", "99079589977253916124855502156832923443", "shardId-000000000001"},
		{"b", "195289424170611159128911017612795795343", "shardId-000000000002"},
		{"e", "299611584147932843547128611849858313266", "shardId-000000000003"},
	}
	c, _ := setup(t, 4)
	shards := listShards(t, c, &kinesis.ListShardsInput{StreamName: ptr(stream)}).Shards
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			got, _ := put(t, c, tc.key, "x")
			if got != tc.want {
				t.Errorf("got shard %s, want %s", got, tc.want)
			}
			// The hand-computed hash lies in the chosen shard's range.
			h, _ := new(big.Int).SetString(tc.hash, 10)
			i := slices.IndexFunc(shards, func(s types.Shard) bool { return *s.ShardId == got })
			lo, _ := new(big.Int).SetString(*shards[i].HashKeyRange.StartingHashKey, 10)
			hi, _ := new(big.Int).SetString(*shards[i].HashKeyRange.EndingHashKey, 10)
			if h.Cmp(lo) < 0 || h.Cmp(hi) > 0 {
				t.Errorf("hash %s not in [%s, %s]", h, lo, hi)
			}
		})
	}
}

func TestRoutingByExplicitHashKey(t *testing.T) {
	q := new(big.Int).Lsh(big.NewInt(1), 126) // start of shard 1 of 4
	tests := []struct {
		key  string
		want string
	}{
		{"0", "shardId-000000000000"},
		{new(big.Int).Sub(q, big.NewInt(1)).String(), "shardId-000000000000"},
		{q.String(), "shardId-000000000001"},
		{new(big.Int).Mul(q, big.NewInt(3)).String(), "shardId-000000000003"},
		{"340282366920938463463374607431768211455", "shardId-000000000003"},
	}
	c, _ := setup(t, 4)
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			out, err := c.PutRecord(context.Background(), &kinesis.PutRecordInput{
				StreamName: ptr(stream), PartitionKey: ptr("a"), ExplicitHashKey: &tc.key, Data: []byte("x"),
			})
			if err != nil {
				t.Fatal(err)
			}
			if *out.ShardId != tc.want {
				t.Errorf("got shard %s, want %s", *out.ShardId, tc.want)
			}
		})
	}
}

func TestPutValidation(t *testing.T) {
	tests := []struct {
		name    string
		entries []types.PutRecordsRequestEntry
	}{
		{"empty key", []types.PutRecordsRequestEntry{{PartitionKey: ptr(""), Data: []byte("x")}}},
		{"nil key", []types.PutRecordsRequestEntry{{Data: []byte("x")}}},
		{"long key", []types.PutRecordsRequestEntry{{PartitionKey: ptr(strings.Repeat("k", 257)), Data: []byte("x")}}},
		{"big record", []types.PutRecordsRequestEntry{{PartitionKey: ptr("k"), Data: make([]byte, 1<<20)}}},
		{"hash key too big", []types.PutRecordsRequestEntry{{PartitionKey: ptr("k"), ExplicitHashKey: ptr("340282366920938463463374607431768211456")}}},
		{"hash key not a number", []types.PutRecordsRequestEntry{{PartitionKey: ptr("k"), ExplicitHashKey: ptr("-1")}}},
		{"no records", nil},
		{"501 records", make([]types.PutRecordsRequestEntry, 501)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := setup(t, 1)
			for i := range tc.entries {
				if tc.entries[i].PartitionKey == nil && tc.name == "501 records" {
					tc.entries[i].PartitionKey = ptr("k")
				}
			}
			_, err := c.PutRecords(context.Background(), &kinesis.PutRecordsInput{StreamName: ptr(stream), Records: tc.entries})
			wantErr[*types.InvalidArgumentException](t, err)
			if recs, _ := c.Records(stream, "shardId-000000000000"); len(recs) != 0 {
				t.Errorf("got %d records stored, want 0", len(recs))
			}
		})
	}
}

func TestPutLimits(t *testing.T) {
	c, _ := setup(t, 1)
	ctx := context.Background()
	// 256 characters of 3 bytes each are allowed.
	if _, _, err := c.Put(ctx, stream, strings.Repeat("€", 256), nil); err != nil {
		t.Errorf("256-character key: got %v, want no error", err)
	}
	if _, _, err := c.Put(ctx, stream, "k", make([]byte, 1<<20-1)); err != nil {
		t.Errorf("1 MiB record: got %v, want no error", err)
	}
	big := make([]byte, 2<<20)
	_, _, err := c.Put(ctx, stream, "k", big)
	wantErr[*types.InvalidArgumentException](t, err)

	_, err = c.UpdateMaxRecordSize(ctx, &kinesis.UpdateMaxRecordSizeInput{StreamARN: ptr("arn:aws:kinesis:us-east-1:123456789012:stream/s"), MaxRecordSizeInKiB: ptr(int32(10241))})
	wantErr[*types.ValidationException](t, err)
	if _, err := c.UpdateMaxRecordSize(ctx, &kinesis.UpdateMaxRecordSizeInput{StreamARN: ptr("arn:aws:kinesis:us-east-1:123456789012:stream/s"), MaxRecordSizeInKiB: ptr(int32(4096))}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Put(ctx, stream, "k", big); err != nil {
		t.Errorf("2 MiB record after UpdateMaxRecordSize: got %v, want no error", err)
	}

	// Put copies Data: reusing the buffer does not change the record.
	buf := []byte("before")
	shardID, _, err := c.Put(ctx, stream, "k", buf)
	if err != nil {
		t.Fatal(err)
	}
	copy(buf, "after!")
	recs, _ := c.Records(stream, shardID)
	if got := string(recs[len(recs)-1].Data); got != "before" {
		t.Errorf("got data %q, want %q", got, "before")
	}
}

func TestSequenceNumbers(t *testing.T) {
	c, clk := setup(t, 3)
	var entries []types.PutRecordsRequestEntry
	for i := range 50 {
		entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: ptr(fmt.Sprint("k", i%7)), Data: []byte(fmt.Sprint(i))})
	}
	var all []string
	for range 3 {
		out, err := c.PutRecords(context.Background(), &kinesis.PutRecordsInput{StreamName: ptr(stream), Records: entries})
		if err != nil {
			t.Fatal(err)
		}
		if *out.FailedRecordCount != 0 || len(out.Records) != len(entries) {
			t.Fatalf("got %d failed of %d results, want 0 of %d", *out.FailedRecordCount, len(out.Records), len(entries))
		}
		for _, r := range out.Records {
			all = append(all, *r.SequenceNumber)
		}
		clk.Advance(time.Millisecond)
	}
	// Strictly increasing across the stream, in put order.
	for i, s := range all {
		if len(s) != 56 || !seqnum.Valid(s) {
			t.Fatalf("got sequence number %q, want 56 decimal digits", s)
		}
		if i > 0 && seqnum.Compare(all[i-1], s) >= 0 {
			t.Fatalf("got %s after %s, want increasing", s, all[i-1])
		}
	}
	// And within each shard, after the shard's starting number.
	for _, s := range listShards(t, c, &kinesis.ListShardsInput{StreamName: ptr(stream)}).Shards {
		recs, err := c.Records(stream, *s.ShardId)
		if err != nil {
			t.Fatal(err)
		}
		prev := *s.SequenceNumberRange.StartingSequenceNumber
		for _, r := range recs {
			if seqnum.Compare(prev, *r.SequenceNumber) >= 0 {
				t.Fatalf("%s: got %s after %s, want increasing", *s.ShardId, *r.SequenceNumber, prev)
			}
			prev = *r.SequenceNumber
			if r.ApproximateArrivalTimestamp.Nanosecond()%int(time.Millisecond) != 0 {
				t.Errorf("got arrival %v, want millisecond precision", r.ApproximateArrivalTimestamp)
			}
		}
	}
}

func TestShardIteratorTypes(t *testing.T) {
	c, clk := setup(t, 1)
	start := clk.Now()
	var seqs []string
	for i := range 5 { // records "0".."4" arrive 1s apart
		_, seq := put(t, c, "k", fmt.Sprint(i))
		seqs = append(seqs, seq)
		clk.Advance(time.Second)
	}
	tests := []struct {
		name string
		in   kinesis.GetShardIteratorInput
		want []string
	}{
		{"TRIM_HORIZON", kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeTrimHorizon}, []string{"0", "1", "2", "3", "4"}},
		{"LATEST", kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeLatest}, []string{}},
		{"AT_SEQUENCE_NUMBER", kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: &seqs[2]}, []string{"2", "3", "4"}},
		{"AFTER_SEQUENCE_NUMBER", kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAfterSequenceNumber, StartingSequenceNumber: &seqs[2]}, []string{"3", "4"}},
		{"AFTER_SEQUENCE_NUMBER last", kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAfterSequenceNumber, StartingSequenceNumber: &seqs[4]}, []string{}},
		{"AT_TIMESTAMP exact", kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAtTimestamp, Timestamp: ptr(start.Add(3 * time.Second))}, []string{"3", "4"}},
		{"AT_TIMESTAMP between", kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAtTimestamp, Timestamp: ptr(start.Add(2500 * time.Millisecond))}, []string{"3", "4"}},
		{"AT_TIMESTAMP before all", kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAtTimestamp, Timestamp: ptr(start.Add(-time.Hour))}, []string{"0", "1", "2", "3", "4"}},
		{"AT_TIMESTAMP now", kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeAtTimestamp, Timestamp: ptr(clk.Now())}, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.ShardId = ptr("shardId-000000000000")
			it := iter(t, c, &tc.in)
			if got := datas(get(t, c, it, 0).Records); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}

	// LATEST sees what is put after it.
	it := iter(t, c, &kinesis.GetShardIteratorInput{ShardId: ptr("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeLatest})
	put(t, c, "k", "5")
	if got := datas(get(t, c, it, 0).Records); !slices.Equal(got, []string{"5"}) {
		t.Errorf("LATEST then put: got %v, want [5]", got)
	}
}

func TestGetShardIteratorErrors(t *testing.T) {
	c, clk := setup(t, 2)
	_, seq0 := put(t, c, "a", "x") // "a" goes to shard 0
	sh0 := ptr("shardId-000000000000")
	tests := []struct {
		name  string
		in    kinesis.GetShardIteratorInput
		check func(*testing.T, error)
	}{
		{"future timestamp", kinesis.GetShardIteratorInput{ShardId: sh0, ShardIteratorType: types.ShardIteratorTypeAtTimestamp, Timestamp: ptr(clk.Now().Add(time.Second))}, wantErr[*types.InvalidArgumentException]},
		{"no timestamp", kinesis.GetShardIteratorInput{ShardId: sh0, ShardIteratorType: types.ShardIteratorTypeAtTimestamp}, wantErr[*types.InvalidArgumentException]},
		{"no sequence number", kinesis.GetShardIteratorInput{ShardId: sh0, ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber}, wantErr[*types.InvalidArgumentException]},
		{"garbage sequence number", kinesis.GetShardIteratorInput{ShardId: sh0, ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber, StartingSequenceNumber: ptr("12x")}, wantErr[*types.InvalidArgumentException]},
		{"other shard's number", kinesis.GetShardIteratorInput{ShardId: ptr("shardId-000000000001"), ShardIteratorType: types.ShardIteratorTypeAfterSequenceNumber, StartingSequenceNumber: &seq0}, wantErr[*types.InvalidArgumentException]},
		{"bad type", kinesis.GetShardIteratorInput{ShardId: sh0, ShardIteratorType: "AT_START"}, wantErr[*types.InvalidArgumentException]},
		{"no shard", kinesis.GetShardIteratorInput{ShardIteratorType: types.ShardIteratorTypeLatest}, wantErr[*types.InvalidArgumentException]},
		{"unknown shard", kinesis.GetShardIteratorInput{ShardId: ptr("shardId-000000000009"), ShardIteratorType: types.ShardIteratorTypeLatest}, wantErr[*types.ResourceNotFoundException]},
		{"unknown stream", kinesis.GetShardIteratorInput{StreamName: ptr("nope"), ShardId: sh0, ShardIteratorType: types.ShardIteratorTypeLatest}, wantErr[*types.ResourceNotFoundException]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.in.StreamName == nil {
				tc.in.StreamName = ptr(stream)
			}
			_, err := c.GetShardIterator(context.Background(), &tc.in)
			tc.check(t, err)
		})
	}
}

func TestGetRecordsLimit(t *testing.T) {
	c, _ := setup(t, 1)
	for i := range 10 {
		put(t, c, "k", fmt.Sprint(i))
	}
	it := iter(t, c, &kinesis.GetShardIteratorInput{ShardId: ptr("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	var pages [][]string
	for range 4 {
		out := get(t, c, it, 3)
		pages = append(pages, datas(out.Records))
		it = out.NextShardIterator
		if it == nil {
			t.Fatal("got nil NextShardIterator on an open shard")
		}
	}
	want := [][]string{{"0", "1", "2"}, {"3", "4", "5"}, {"6", "7", "8"}, {"9"}}
	if !slices.EqualFunc(pages, want, slices.Equal) {
		t.Errorf("got pages %v, want %v", pages, want)
	}
	if out := get(t, c, it, 3); len(out.Records) != 0 || out.NextShardIterator == nil {
		t.Errorf("at the tip: got %d records, next %v; want 0 and an iterator", len(out.Records), out.NextShardIterator)
	}

	for _, limit := range []int32{0, -1, 10001} {
		_, err := c.GetRecords(context.Background(), &kinesis.GetRecordsInput{ShardIterator: it, Limit: &limit})
		wantErr[*types.InvalidArgumentException](t, err)
	}
	corrupt := []byte(*it) // one hex digit changed: the check value catches it
	if corrupt[40] == '0' {
		corrupt[40] = '1'
	} else {
		corrupt[40] = '0'
	}
	for _, bad := range []string{"", "nonsense", strings.Repeat("0", len(*it)), (*it)[:len(*it)-1] + "X", string(corrupt)} {
		_, err := c.GetRecords(context.Background(), &kinesis.GetRecordsInput{ShardIterator: &bad})
		wantErr[*types.InvalidArgumentException](t, err)
	}
	_, err := c.GetRecords(context.Background(), &kinesis.GetRecordsInput{})
	wantErr[*types.InvalidArgumentException](t, err)
}

func TestGetRecordsMaxCount(t *testing.T) {
	c, _ := setup(t, 1)
	entries := make([]types.PutRecordsRequestEntry, 500)
	for i := range entries {
		entries[i] = types.PutRecordsRequestEntry{PartitionKey: ptr("k"), Data: []byte{1}}
	}
	for range 21 { // 10,500 records
		if _, err := c.PutRecords(context.Background(), &kinesis.PutRecordsInput{StreamName: ptr(stream), Records: entries}); err != nil {
			t.Fatal(err)
		}
	}
	it := iter(t, c, &kinesis.GetShardIteratorInput{ShardId: ptr("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	out := get(t, c, it, 0)
	if len(out.Records) != 10000 {
		t.Errorf("default Limit: got %d records, want 10000", len(out.Records))
	}
	if out = get(t, c, out.NextShardIterator, 0); len(out.Records) != 500 {
		t.Errorf("second call: got %d records, want 500", len(out.Records))
	}
}

func TestGetRecords10MiB(t *testing.T) {
	c, _ := setup(t, 1)
	data := make([]byte, 1<<20-10) // 10 of these fit in 10 MiB, 11 do not
	for range 12 {
		put(t, c, "k", string(data))
	}
	it := iter(t, c, &kinesis.GetShardIteratorInput{ShardId: ptr("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	out := get(t, c, it, 0)
	if len(out.Records) != 10 {
		t.Errorf("got %d records, want 10", len(out.Records))
	}
	if *out.MillisBehindLatest < 1 {
		t.Errorf("got MillisBehindLatest %d with records left, want ≥ 1", *out.MillisBehindLatest)
	}
	if out = get(t, c, out.NextShardIterator, 0); len(out.Records) != 2 {
		t.Errorf("second call: got %d records, want 2", len(out.Records))
	}
}

func TestMillisBehindLatest(t *testing.T) {
	c, clk := setup(t, 1)
	put(t, c, "k", "0")
	clk.Advance(time.Second)
	put(t, c, "k", "1")
	put(t, c, "k", "2") // same millisecond as "1"
	clk.Advance(4 * time.Second)
	it := iter(t, c, &kinesis.GetShardIteratorInput{ShardId: ptr("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	tests := []struct {
		name    string
		limit   int32
		advance time.Duration
		want    int64
	}{
		{"behind by first unreturned", 1, 0, 4000}, // now - arrival of "1"
		{"same millisecond is at least 1", 1, -4 * time.Second, 1},
		{"at the tip", 5, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk.Advance(tc.advance)
			out := get(t, c, it, tc.limit)
			if *out.MillisBehindLatest != tc.want {
				t.Errorf("got MillisBehindLatest %d, want %d", *out.MillisBehindLatest, tc.want)
			}
			it = out.NextShardIterator
		})
	}
}

func TestIteratorExpiry(t *testing.T) {
	tests := []struct {
		name    string
		advance time.Duration
		expired bool
	}{
		{"fresh", 0, false},
		{"just before 5 min", 5*time.Minute - time.Nanosecond, false},
		{"exactly 5 min", 5 * time.Minute, true},
		{"later", time.Hour, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, clk := setup(t, 1)
			it := iter(t, c, &kinesis.GetShardIteratorInput{ShardId: ptr("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
			clk.Advance(tc.advance)
			_, err := c.GetRecords(context.Background(), &kinesis.GetRecordsInput{ShardIterator: it})
			if tc.expired {
				wantErr[*types.ExpiredIteratorException](t, err)
			} else if err != nil {
				t.Fatalf("got %v, want no error", err)
			}
		})
	}

	t.Run("NextShardIterator is fresh", func(t *testing.T) {
		c, clk := setup(t, 1)
		it := iter(t, c, &kinesis.GetShardIteratorInput{ShardId: ptr("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		clk.Advance(4 * time.Minute)
		next := get(t, c, it, 0).NextShardIterator
		clk.Advance(4 * time.Minute)
		get(t, c, next, 0)
	})

	t.Run("ExpireIterators", func(t *testing.T) {
		c, _ := setup(t, 1)
		old := iter(t, c, &kinesis.GetShardIteratorInput{ShardId: ptr("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		c.ExpireIterators()
		_, err := c.GetRecords(context.Background(), &kinesis.GetRecordsInput{ShardIterator: old})
		wantErr[*types.ExpiredIteratorException](t, err)
		fresh := iter(t, c, &kinesis.GetShardIteratorInput{ShardId: ptr("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		get(t, c, fresh, 0)
	})
}

// readToEnd reads a shard from TRIM_HORIZON until NextShardIterator is nil
// and returns the data read and the last response.
func readToEnd(t *testing.T, c *kinesistest.Client, shardID string) ([]string, *kinesis.GetRecordsOutput) {
	t.Helper()
	it := iter(t, c, &kinesis.GetShardIteratorInput{ShardId: &shardID, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	var got []string
	for range 100 {
		out := get(t, c, it, 2)
		got = append(got, datas(out.Records)...)
		if out.NextShardIterator == nil {
			return got, out
		}
		if len(out.ChildShards) != 0 {
			t.Fatalf("got ChildShards %v with a NextShardIterator", out.ChildShards)
		}
		it = out.NextShardIterator
	}
	t.Fatalf("shard %s did not end", shardID)
	return nil, nil
}

type childShard struct {
	id         string
	parents    []string
	start, end string
}

func children(cs []types.ChildShard) []childShard {
	var out []childShard
	for _, c := range cs {
		out = append(out, childShard{*c.ShardId, c.ParentShards, *c.HashKeyRange.StartingHashKey, *c.HashKeyRange.EndingHashKey})
	}
	return out
}

func TestSplitShard(t *testing.T) {
	c, _ := setup(t, 1)
	put(t, c, "a", "0")
	put(t, c, "b", "1")
	put(t, c, "c", "2")
	parentEnd := "340282366920938463463374607431768211455"
	mid := "170141183460469231731687303715884105728"
	if _, err := c.SplitShard(context.Background(), &kinesis.SplitShardInput{
		StreamName: ptr(stream), ShardToSplit: ptr("shardId-000000000000"), NewStartingHashKey: &mid,
	}); err != nil {
		t.Fatal(err)
	}

	got, last := readToEnd(t, c, "shardId-000000000000")
	if want := []string{"0", "1", "2"}; !slices.Equal(got, want) {
		t.Errorf("parent: got %v, want %v", got, want)
	}
	wantChildren := []childShard{
		{"shardId-000000000001", []string{"shardId-000000000000"}, "0", "170141183460469231731687303715884105727"},
		{"shardId-000000000002", []string{"shardId-000000000000"}, mid, parentEnd},
	}
	if got := children(last.ChildShards); !slices.EqualFunc(got, wantChildren, childEqual) {
		t.Errorf("got ChildShards %v, want %v", got, wantChildren)
	}
	if *last.MillisBehindLatest != 0 {
		t.Errorf("got MillisBehindLatest %d at the end, want 0", *last.MillisBehindLatest)
	}

	shards := listShards(t, c, &kinesis.ListShardsInput{StreamName: ptr(stream)}).Shards
	if want := []string{"shardId-000000000000", "shardId-000000000001", "shardId-000000000002"}; !slices.Equal(ids(shards), want) {
		t.Fatalf("got shards %v, want %v", ids(shards), want)
	}
	parentEndSeq := shards[0].SequenceNumberRange.EndingSequenceNumber
	if parentEndSeq == nil {
		t.Fatal("got no EndingSequenceNumber on the closed parent")
	}
	for _, s := range shards[1:] {
		if s.ParentShardId == nil || *s.ParentShardId != "shardId-000000000000" || s.AdjacentParentShardId != nil {
			t.Errorf("%s: got parents %v %v, want shardId-000000000000 and none", *s.ShardId, s.ParentShardId, s.AdjacentParentShardId)
		}
		if s.SequenceNumberRange.EndingSequenceNumber != nil {
			t.Errorf("%s: got an EndingSequenceNumber on an open shard", *s.ShardId)
		}
	}

	// New puts go to the children, with greater sequence numbers.
	for _, tc := range []struct{ key, shard string }{{"a", "shardId-000000000001"}, {"b", "shardId-000000000002"}} {
		gotShard, seq := put(t, c, tc.key, "new")
		if gotShard != tc.shard {
			t.Errorf("key %s: got shard %s, want %s", tc.key, gotShard, tc.shard)
		}
		if seqnum.Compare(seq, *parentEndSeq) <= 0 {
			t.Errorf("child sequence number %s not after parent's end %s", seq, *parentEndSeq)
		}
	}

	// A closed shard gives a valid iterator; LATEST on it is at the end.
	it := iter(t, c, &kinesis.GetShardIteratorInput{ShardId: ptr("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeLatest})
	if out := get(t, c, it, 0); len(out.Records) != 0 || out.NextShardIterator != nil || len(out.ChildShards) != 2 {
		t.Errorf("LATEST on closed shard: got %d records, next %v, %d children; want 0, nil, 2",
			len(out.Records), out.NextShardIterator, len(out.ChildShards))
	}
}

func childEqual(a, b childShard) bool {
	return a.id == b.id && slices.Equal(a.parents, b.parents) && a.start == b.start && a.end == b.end
}

func TestMergeShards(t *testing.T) {
	c, _ := setup(t, 2)
	put(t, c, "a", "to 0") // shard 0
	put(t, c, "b", "to 1") // shard 1
	if _, err := c.MergeShards(context.Background(), &kinesis.MergeShardsInput{
		StreamName: ptr(stream), ShardToMerge: ptr("shardId-000000000001"), AdjacentShardToMerge: ptr("shardId-000000000000"),
	}); err != nil {
		t.Fatal(err)
	}
	want := []childShard{{"shardId-000000000002", []string{"shardId-000000000001", "shardId-000000000000"}, "0", "340282366920938463463374607431768211455"}}
	for _, parent := range []string{"shardId-000000000000", "shardId-000000000001"} {
		got, last := readToEnd(t, c, parent)
		if len(got) != 1 {
			t.Errorf("%s: got %v, want 1 record", parent, got)
		}
		if g := children(last.ChildShards); !slices.EqualFunc(g, want, childEqual) {
			t.Errorf("%s: got ChildShards %v, want %v", parent, g, want)
		}
	}
	shards := listShards(t, c, &kinesis.ListShardsInput{StreamName: ptr(stream)}).Shards
	child := shards[2]
	if *child.ParentShardId != "shardId-000000000001" || *child.AdjacentParentShardId != "shardId-000000000000" {
		t.Errorf("got parents %s and %s, want shardId-000000000001 and shardId-000000000000", *child.ParentShardId, *child.AdjacentParentShardId)
	}
	if got, _ := put(t, c, "a", "to 2"); got != "shardId-000000000002" {
		t.Errorf("got shard %s after merge, want shardId-000000000002", got)
	}
}

func TestReshardErrors(t *testing.T) {
	tests := []struct {
		name  string
		call  func(*kinesistest.Client) error
		check func(*testing.T, error)
	}{
		{"merge not adjacent", func(c *kinesistest.Client) error {
			_, err := c.MergeShards(context.Background(), &kinesis.MergeShardsInput{StreamName: ptr(stream), ShardToMerge: ptr("shardId-000000000000"), AdjacentShardToMerge: ptr("shardId-000000000002")})
			return err
		}, wantErr[*types.InvalidArgumentException]},
		{"merge with itself", func(c *kinesistest.Client) error {
			_, err := c.MergeShards(context.Background(), &kinesis.MergeShardsInput{StreamName: ptr(stream), ShardToMerge: ptr("shardId-000000000000"), AdjacentShardToMerge: ptr("shardId-000000000000")})
			return err
		}, wantErr[*types.InvalidArgumentException]},
		{"merge unknown", func(c *kinesistest.Client) error {
			_, err := c.MergeShards(context.Background(), &kinesis.MergeShardsInput{StreamName: ptr(stream), ShardToMerge: ptr("shardId-000000000000"), AdjacentShardToMerge: ptr("shardId-000000000009")})
			return err
		}, wantErr[*types.ResourceNotFoundException]},
		{"split at start", func(c *kinesistest.Client) error {
			_, err := c.SplitShard(context.Background(), &kinesis.SplitShardInput{StreamName: ptr(stream), ShardToSplit: ptr("shardId-000000000000"), NewStartingHashKey: ptr("0")})
			return err
		}, wantErr[*types.InvalidArgumentException]},
		{"split outside", func(c *kinesistest.Client) error {
			_, err := c.SplitShard(context.Background(), &kinesis.SplitShardInput{StreamName: ptr(stream), ShardToSplit: ptr("shardId-000000000000"), NewStartingHashKey: ptr("340282366920938463463374607431768211455")})
			return err
		}, wantErr[*types.InvalidArgumentException]},
		{"split closed", func(c *kinesistest.Client) error {
			in := &kinesis.SplitShardInput{StreamName: ptr(stream), ShardToSplit: ptr("shardId-000000000000"), NewStartingHashKey: ptr("1000")}
			if _, err := c.SplitShard(context.Background(), in); err != nil {
				return err
			}
			_, err := c.SplitShard(context.Background(), in)
			return err
		}, wantErr[*types.ResourceInUseException]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := setup(t, 3)
			tc.check(t, tc.call(c))
		})
	}
}

func TestListShardsPagination(t *testing.T) {
	c, clk := setup(t, 5)
	var pages [][]string
	in := &kinesis.ListShardsInput{StreamName: ptr(stream), MaxResults: ptr(int32(2))}
	for {
		out := listShards(t, c, in)
		pages = append(pages, ids(out.Shards))
		if out.NextToken == nil {
			break
		}
		in = &kinesis.ListShardsInput{NextToken: out.NextToken, MaxResults: ptr(int32(2))}
	}
	want := [][]string{
		{"shardId-000000000000", "shardId-000000000001"},
		{"shardId-000000000002", "shardId-000000000003"},
		{"shardId-000000000004"},
	}
	if !slices.EqualFunc(pages, want, slices.Equal) {
		t.Errorf("got pages %v, want %v", pages, want)
	}

	got := ids(listShards(t, c, &kinesis.ListShardsInput{StreamName: ptr(stream), ExclusiveStartShardId: ptr("shardId-000000000002")}).Shards)
	if want := []string{"shardId-000000000003", "shardId-000000000004"}; !slices.Equal(got, want) {
		t.Errorf("ExclusiveStartShardId: got %v, want %v", got, want)
	}

	token := listShards(t, c, &kinesis.ListShardsInput{StreamName: ptr(stream), MaxResults: ptr(int32(1))}).NextToken
	tests := []struct {
		name  string
		in    *kinesis.ListShardsInput
		check func(*testing.T, error)
	}{
		{"MaxResults 0", &kinesis.ListShardsInput{StreamName: ptr(stream), MaxResults: ptr(int32(0))}, wantErr[*types.InvalidArgumentException]},
		{"MaxResults 10001", &kinesis.ListShardsInput{StreamName: ptr(stream), MaxResults: ptr(int32(10001))}, wantErr[*types.InvalidArgumentException]},
		{"NextToken with StreamName", &kinesis.ListShardsInput{StreamName: ptr(stream), NextToken: token}, wantErr[*types.InvalidArgumentException]},
		{"NextToken with ShardFilter", &kinesis.ListShardsInput{NextToken: token, ShardFilter: &types.ShardFilter{Type: types.ShardFilterTypeAtLatest}}, wantErr[*types.InvalidArgumentException]},
		{"bad NextToken", &kinesis.ListShardsInput{NextToken: ptr("!!")}, wantErr[*types.InvalidArgumentException]},
		{"AFTER_SHARD_ID without ShardId", &kinesis.ListShardsInput{StreamName: ptr(stream), ShardFilter: &types.ShardFilter{Type: types.ShardFilterTypeAfterShardId}}, wantErr[*types.InvalidArgumentException]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.ListShards(context.Background(), tc.in)
			tc.check(t, err)
		})
	}

	clk.Advance(300 * time.Second)
	_, err := c.ListShards(context.Background(), &kinesis.ListShardsInput{NextToken: token})
	wantErr[*types.ExpiredNextTokenException](t, err)
}

func TestListShardsFilters(t *testing.T) {
	// Shards 0 and 1 are created with the stream; shard 0 is split into 2
	// and 3 at splitAt.
	c, clk := setup(t, 2)
	before := clk.Now()
	clk.Advance(time.Minute)
	splitAt := clk.Now()
	if _, err := c.SplitShard(context.Background(), &kinesis.SplitShardInput{
		StreamName: ptr(stream), ShardToSplit: ptr("shardId-000000000000"), NewStartingHashKey: ptr("1000"),
	}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	after := clk.Now()

	tests := []struct {
		name   string
		filter *types.ShardFilter
		want   []int
	}{
		{"none", nil, []int{0, 1, 2, 3}},
		{"FROM_TRIM_HORIZON", &types.ShardFilter{Type: types.ShardFilterTypeFromTrimHorizon}, []int{0, 1, 2, 3}},
		{"AT_TRIM_HORIZON", &types.ShardFilter{Type: types.ShardFilterTypeAtTrimHorizon}, []int{0, 1}},
		{"AT_LATEST", &types.ShardFilter{Type: types.ShardFilterTypeAtLatest}, []int{1, 2, 3}},
		{"AFTER_SHARD_ID", &types.ShardFilter{Type: types.ShardFilterTypeAfterShardId, ShardId: ptr("shardId-000000000001")}, []int{2, 3}},
		{"AT_TIMESTAMP before", &types.ShardFilter{Type: types.ShardFilterTypeAtTimestamp, Timestamp: &before}, []int{0, 1}},
		{"AT_TIMESTAMP at split", &types.ShardFilter{Type: types.ShardFilterTypeAtTimestamp, Timestamp: &splitAt}, []int{0, 1, 2, 3}},
		{"AT_TIMESTAMP after", &types.ShardFilter{Type: types.ShardFilterTypeAtTimestamp, Timestamp: &after}, []int{1, 2, 3}},
		{"FROM_TIMESTAMP before", &types.ShardFilter{Type: types.ShardFilterTypeFromTimestamp, Timestamp: &before}, []int{0, 1, 2, 3}},
		{"FROM_TIMESTAMP after", &types.ShardFilter{Type: types.ShardFilterTypeFromTimestamp, Timestamp: &after}, []int{1, 2, 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ids(listShards(t, c, &kinesis.ListShardsInput{StreamName: ptr(stream), ShardFilter: tc.filter}).Shards)
			var want []string
			for _, i := range tc.want {
				want = append(want, fmt.Sprintf("shardId-%012d", i))
			}
			if !slices.Equal(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}

	// The filter carries over to the next page.
	out := listShards(t, c, &kinesis.ListShardsInput{StreamName: ptr(stream), MaxResults: ptr(int32(1)),
		ShardFilter: &types.ShardFilter{Type: types.ShardFilterTypeAtLatest}})
	out = listShards(t, c, &kinesis.ListShardsInput{NextToken: out.NextToken})
	if got, want := ids(out.Shards), []string{"shardId-000000000002", "shardId-000000000003"}; !slices.Equal(got, want) {
		t.Errorf("second page of AT_LATEST: got %v, want %v", got, want)
	}
}

func TestDescribeStream(t *testing.T) {
	c, _ := setup(t, 3)
	out, err := c.DescribeStream(context.Background(), &kinesis.DescribeStreamInput{StreamName: ptr(stream), Limit: ptr(int32(2))})
	if err != nil {
		t.Fatal(err)
	}
	d := out.StreamDescription
	if got, want := ids(d.Shards), []string{"shardId-000000000000", "shardId-000000000001"}; !slices.Equal(got, want) || !*d.HasMoreShards {
		t.Errorf("got %v, more %v; want %v, more true", got, *d.HasMoreShards, want)
	}
	out, err = c.DescribeStream(context.Background(), &kinesis.DescribeStreamInput{StreamName: ptr(stream), ExclusiveStartShardId: ptr("shardId-000000000001")})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(out.StreamDescription.Shards); len(got) != 1 || *out.StreamDescription.HasMoreShards {
		t.Errorf("got %v, more %v; want 1 shard, more false", got, *out.StreamDescription.HasMoreShards)
	}
}

func TestShardReadRate(t *testing.T) {
	c, clk := setup(t, 2, kinesistest.ShardReadRate(5))
	it := iter(t, c, &kinesis.GetShardIteratorInput{ShardId: ptr("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	other := iter(t, c, &kinesis.GetShardIteratorInput{ShardId: ptr("shardId-000000000001"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	for range 5 {
		it = get(t, c, it, 0).NextShardIterator
		clk.Advance(100 * time.Millisecond)
	}
	_, err := c.GetRecords(context.Background(), &kinesis.GetRecordsInput{ShardIterator: it})
	wantErr[*types.ProvisionedThroughputExceededException](t, err)
	get(t, c, other, 0) // other shards have their own budget
	clk.Advance(500 * time.Millisecond)
	get(t, c, it, 0) // a second after the first call
}

// TestConcurrency runs writers, readers, ListShards and a split at once;
// run it with -race. Each writer owns a key and writes 0, 1, 2, …; the
// records of each key must come out in that order when sorted by sequence
// number.
func TestConcurrency(t *testing.T) {
	const writers, perWriter = 8, 300
	c := kinesistest.New()
	if _, err := c.AddStream(stream, 4); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			key := fmt.Sprint("writer-", w)
			for i := 0; i < perWriter; i += 3 {
				entries := make([]types.PutRecordsRequestEntry, 3)
				for j := range entries {
					entries[j] = types.PutRecordsRequestEntry{PartitionKey: &key, Data: []byte(fmt.Sprint(i + j))}
				}
				if _, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: ptr(stream), Records: entries}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for r := range 4 {
		readers.Go(func() {
			id := fmt.Sprintf("shardId-%012d", r)
			out, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: ptr(stream), ShardId: &id, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
			if err != nil {
				t.Error(err)
				return
			}
			it := out.ShardIterator
			for it != nil {
				select {
				case <-stop:
					return
				default:
				}
				recs, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it, Limit: ptr(int32(50))})
				if err != nil {
					t.Error(err)
					return
				}
				it = recs.NextShardIterator
				if _, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: ptr(stream)}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	if _, err := c.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: ptr(stream), ShardToSplit: ptr("shardId-000000000000"), NewStartingHashKey: ptr("1000")}); err != nil {
		t.Error(err)
	}
	wg.Wait()
	close(stop)
	readers.Wait()

	type rec struct{ seq, key, data string }
	var all []rec
	for _, s := range listShards(t, c, &kinesis.ListShardsInput{StreamName: ptr(stream)}).Shards {
		recs, err := c.Records(stream, *s.ShardId)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			all = append(all, rec{*r.SequenceNumber, *r.PartitionKey, string(r.Data)})
		}
	}
	if len(all) != writers*perWriter {
		t.Fatalf("got %d records, want %d", len(all), writers*perWriter)
	}
	slices.SortFunc(all, func(a, b rec) int { return seqnum.Compare(a.seq, b.seq) })
	next := map[string]int{}
	for _, r := range all {
		if want := fmt.Sprint(next[r.key]); r.data != want {
			t.Fatalf("key %s: got %s, want %s", r.key, r.data, want)
		}
		next[r.key]++
	}
}
