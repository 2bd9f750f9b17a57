package kinesistest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/esmkit/esmkit/internal/testserver"
	"github.com/esmkit/esmkit/kinesistest"
)

// serve starts a Server for c, closed when t ends, and returns an SDK
// client for it without retries, so every call is exactly one request.
func serve(t testing.TB, c *kinesistest.Client) *kinesis.Client {
	t.Helper()
	srv := kinesistest.NewServer(c)
	t.Cleanup(srv.Close)
	return testserver.KinesisClient(t, srv.URL, func(o *kinesis.Options) { o.Retryer = aws.NopRetryer{} })
}

// pair runs every call twice: on a Client in process (direct) and through
// a Server on another Client (remote) with its own clock at the same time.
// The two Clients see the same calls at the same times, so their outputs
// must be identical.
type pair struct {
	t              *testing.T
	direct, served *kinesistest.Client
	remote         api
	dclk, rclk     *clock
	remoteErr      error // of the last call, as the SDK decoded it
}

func newPair(t *testing.T, opts ...kinesistest.Option) *pair {
	p := &pair{t: t, dclk: newClock(), rclk: newClock()}
	p.direct = kinesistest.New(append([]kinesistest.Option{kinesistest.Clock(p.dclk.Now)}, opts...)...)
	p.served = kinesistest.New(append([]kinesistest.Option{kinesistest.Clock(p.rclk.Now)}, opts...)...)
	p.remote = serve(t, p.served)
	return p
}

func (p *pair) advance(d time.Duration) {
	p.dclk.Advance(d)
	p.rclk.Advance(d)
}

func (p *pair) inject(op string, tr kinesistest.Trigger, err error) {
	p.direct.Inject(op, tr, err)
	p.served.Inject(op, tr, err)
}

// call runs f on both sides and fails the test unless the outputs and the
// errors are the same (see canon and errKey). It returns the direct
// output and error.
func call[In, Out any](p *pair, f func(api, context.Context, *In, ...func(*kinesis.Options)) (*Out, error), in *In) (*Out, error) {
	p.t.Helper()
	ctx := context.Background()
	want, wantErr := f(p.direct, ctx, in)
	got, gotErr := f(p.remote, ctx, in)
	p.remoteErr = gotErr
	if wk, gk := errKey(wantErr), errKey(gotErr); wk != gk {
		p.t.Fatalf("%T: got error %s (%v), want %s (%v)", in, gk, gotErr, wk, wantErr)
	}
	if wantErr == nil {
		if w, g := canon(want), canon(got); w != g {
			p.t.Fatalf("%T: outputs differ\n got (HTTP) %s\nwant        %s", in, g, w)
		}
	}
	return want, wantErr
}

// errKey is what must agree between an error in process and the same error
// over HTTP: the API error code and message and the HTTP status.
func errKey(err error) string {
	if err == nil {
		return "<nil>"
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return "non-API error " + err.Error()
	}
	status := 0
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) {
		status = respErr.HTTPStatusCode()
	}
	return fmt.Sprintf("%d %s: %s", status, apiErr.ErrorCode(), apiErr.ErrorMessage())
}

// canon renders an SDK output for comparison: exported fields only, without
// ResultMetadata; times in UTC to the millisecond (the wire's precision);
// nil and empty slices alike (JSON has no nil slice).
func canon(v any) string {
	var b strings.Builder
	canonValue(&b, reflect.ValueOf(v))
	return b.String()
}

var timeType = reflect.TypeFor[time.Time]()

func canonValue(b *strings.Builder, v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		canonValue(b, v.Elem())
	case reflect.Struct:
		if v.Type() == timeType {
			b.WriteString(v.Interface().(time.Time).UTC().Truncate(time.Millisecond).Format(time.RFC3339Nano))
			return
		}
		b.WriteString("{")
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() || f.Name == "ResultMetadata" {
				continue
			}
			b.WriteString(f.Name + ":")
			canonValue(b, v.Field(i))
			b.WriteString(" ")
		}
		b.WriteString("}")
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			fmt.Fprintf(b, "%q", v.Bytes())
			return
		}
		b.WriteString("[")
		for i := range v.Len() {
			canonValue(b, v.Index(i))
			b.WriteString(" ")
		}
		b.WriteString("]")
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		b.WriteString("map[")
		for _, k := range keys {
			fmt.Fprintf(b, "%v:", k)
			canonValue(b, v.MapIndex(k))
			b.WriteString(" ")
		}
		b.WriteString("]")
	default:
		fmt.Fprintf(b, "%#v", v.Interface())
	}
}

// mustCall is call for calls that must succeed.
func mustCall[In, Out any](p *pair, f func(api, context.Context, *In, ...func(*kinesis.Options)) (*Out, error), in *In) *Out {
	p.t.Helper()
	out, err := call(p, f, in)
	if err != nil {
		p.t.Fatalf("%T: %v", in, err)
	}
	return out
}

// remoteGet reads a shard through the SDK from TRIM_HORIZON to the end
// of what is there, following NextShardIterator, and returns the records
// and the last output.
func remoteGet(t *testing.T, k api, streamName, shardID string) ([]types.Record, *kinesis.GetRecordsOutput) {
	t.Helper()
	ctx := context.Background()
	it, err := k.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
		StreamName: &streamName, ShardId: &shardID, ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
	})
	if err != nil {
		t.Fatal(err)
	}
	var recs []types.Record
	next := it.ShardIterator
	for {
		out, err := k.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: next})
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, out.Records...)
		if out.NextShardIterator == nil || len(out.Records) == 0 {
			return recs, out
		}
		next = out.NextShardIterator
	}
}

func TestServerRoundTrip(t *testing.T) {
	binary := make([]byte, 256)
	for i := range binary {
		binary[i] = byte(i)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB minus the key
	big = big[:len(big)-3]
	tests := []struct {
		name string
		key  string
		data []byte
	}{
		{"text", "k", []byte("hello")},
		{"empty", "k", []byte{}},
		{"binary", "k", binary},
		{"one byte", "k", []byte{0xff}},
		{"two bytes", "k", []byte{0xfb, 0xff}},
		{"unicode key", "ключ \"quoted\" \\ \t\n\u2028 😀", []byte("x")},
		{"largest record", "abc", big},
	}
	p := newPair(t)
	// Arrival times have milliseconds and a sub-millisecond part that
	// Kinesis drops.
	p.advance(123*time.Millisecond + 456*time.Microsecond)
	mustCall(p, api.CreateStream, &kinesis.CreateStreamInput{StreamName: ptr("rt"), ShardCount: ptr(int32(1))})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p.t = t
			put := mustCall(p, api.PutRecord, &kinesis.PutRecordInput{StreamName: ptr("rt"), PartitionKey: &tc.key, Data: tc.data})
			it := mustCall(p, api.GetShardIterator, &kinesis.GetShardIteratorInput{
				StreamName: ptr("rt"), ShardId: put.ShardId, ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber,
				StartingSequenceNumber: put.SequenceNumber,
			})
			got := mustCall(p, api.GetRecords, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator, Limit: ptr(int32(1))})
			// call compared the HTTP output with the direct one; check
			// the direct one against the input.
			if len(got.Records) != 1 {
				t.Fatalf("got %d records, want 1", len(got.Records))
			}
			r := got.Records[0]
			if !bytes.Equal(r.Data, tc.data) || *r.PartitionKey != tc.key || *r.SequenceNumber != *put.SequenceNumber {
				t.Errorf("got record %q %q %s, want %q %q %s", r.Data, *r.PartitionKey, *r.SequenceNumber, tc.data, tc.key, *put.SequenceNumber)
			}
			if want := p.dclk.Now().Truncate(time.Millisecond); !r.ApproximateArrivalTimestamp.Equal(want) {
				t.Errorf("got arrival %v, want %v", r.ApproximateArrivalTimestamp, want)
			}
		})
	}
}

// TestServerTimestampPrecision checks arrival times and AT_TIMESTAMP
// iterators to the millisecond, on the SDK side only: the SDK must decode
// exactly the millisecond stored.
func TestServerTimestampPrecision(t *testing.T) {
	clk := newClock()
	c := kinesistest.New(kinesistest.Clock(clk.Now))
	k := serve(t, c)
	ctx := context.Background()
	if _, err := c.AddStream(stream, 1); err != nil {
		t.Fatal(err)
	}
	var want []time.Time
	for i := range 5 {
		clk.Advance(time.Duration(i)*time.Millisecond + 999*time.Microsecond)
		want = append(want, clk.Now().Truncate(time.Millisecond))
		if _, err := k.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: ptr(stream), PartitionKey: ptr("k"), Data: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	recs, _ := remoteGet(t, k, stream, "shardId-000000000000")
	for i, r := range recs {
		if !r.ApproximateArrivalTimestamp.Equal(want[i]) {
			t.Errorf("record %d: got arrival %v, want %v", i, r.ApproximateArrivalTimestamp, want[i])
		}
	}
	// AT_TIMESTAMP at each arrival finds that record.
	for i, ts := range want {
		it, err := k.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
			StreamName: ptr(stream), ShardId: ptr("shardId-000000000000"),
			ShardIteratorType: types.ShardIteratorTypeAtTimestamp, Timestamp: &ts,
		})
		if err != nil {
			t.Fatal(err)
		}
		out, err := k.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator, Limit: ptr(int32(1))})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Records) != 1 || out.Records[0].Data[0] != byte(i) {
			t.Errorf("AT_TIMESTAMP %v: got %v, want record %d", ts, out.Records, i)
		}
	}
}

// TestServerOperations runs every served operation on both sides of a
// pair, including resharding and the ends of closed shards.
func TestServerOperations(t *testing.T) {
	p := newPair(t)
	const name = "ops"
	mustCall(p, api.CreateStream, &kinesis.CreateStreamInput{StreamName: ptr(name), ShardCount: ptr(int32(2))})
	mustCall(p, api.CreateStream, &kinesis.CreateStreamInput{StreamName: ptr("od"), StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}})
	arn := *mustCall(p, api.DescribeStreamSummary, &kinesis.DescribeStreamSummaryInput{StreamName: ptr(name)}).StreamDescriptionSummary.StreamARN
	mustCall(p, api.DescribeStream, &kinesis.DescribeStreamInput{StreamARN: &arn})

	var entries []types.PutRecordsRequestEntry
	for i := range 50 {
		entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: ptr(fmt.Sprint("key-", i)), Data: []byte(fmt.Sprint("record ", i))})
	}
	entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: ptr("x"), ExplicitHashKey: ptr("0"), Data: []byte("explicit")})
	mustCall(p, api.PutRecords, &kinesis.PutRecordsInput{StreamARN: &arn, Records: entries})
	p.advance(1500 * time.Millisecond)
	mustCall(p, api.PutRecord, &kinesis.PutRecordInput{StreamName: ptr(name), PartitionKey: ptr("late"), Data: []byte("late")})
	p.advance(2 * time.Second)

	// MillisBehindLatest: reading 10 at a time from the start is behind by
	// the age of the next record.
	for _, sh := range []string{"shardId-000000000000", "shardId-000000000001"} {
		it := mustCall(p, api.GetShardIterator, &kinesis.GetShardIteratorInput{StreamName: ptr(name), ShardId: &sh, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		next := it.ShardIterator
		for next != nil {
			out := mustCall(p, api.GetRecords, &kinesis.GetRecordsInput{ShardIterator: next, Limit: ptr(int32(10))})
			if len(out.Records) == 0 {
				if *out.MillisBehindLatest != 0 {
					t.Errorf("%s: at the end got MillisBehindLatest %d, want 0", sh, *out.MillisBehindLatest)
				}
				break
			}
			next = out.NextShardIterator
		}
	}
	out := mustCall(p, api.GetRecords, &kinesis.GetRecordsInput{ShardIterator: mustCall(p, api.GetShardIterator, &kinesis.GetShardIteratorInput{
		StreamName: ptr(name), ShardId: ptr("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
	}).ShardIterator, Limit: ptr(int32(1))})
	if *out.MillisBehindLatest < 3000 {
		t.Errorf("got MillisBehindLatest %d, want ≥ 3000", *out.MillisBehindLatest)
	}

	// Reshard: split 0, merge 1 with the upper child of 0.
	shards := mustCall(p, api.ListShards, &kinesis.ListShardsInput{StreamName: ptr(name)}).Shards
	mid := "85070591730234615865843651857942052863" // inside shard 0, which is [0, 2^127-1]
	mustCall(p, api.SplitShard, &kinesis.SplitShardInput{StreamName: ptr(name), ShardToSplit: shards[0].ShardId, NewStartingHashKey: &mid})
	mustCall(p, api.PutRecords, &kinesis.PutRecordsInput{StreamName: ptr(name), Records: entries})
	mustCall(p, api.MergeShards, &kinesis.MergeShardsInput{StreamName: ptr(name), ShardToMerge: ptr("shardId-000000000003"), AdjacentShardToMerge: ptr("shardId-000000000001")})
	mustCall(p, api.PutRecords, &kinesis.PutRecordsInput{StreamName: ptr(name), Records: entries})
	mustCall(p, api.DescribeStream, &kinesis.DescribeStreamInput{StreamName: ptr(name)})
	mustCall(p, api.DescribeStream, &kinesis.DescribeStreamInput{StreamName: ptr(name), Limit: ptr(int32(2)), ExclusiveStartShardId: ptr("shardId-000000000000")})
	mustCall(p, api.DescribeStreamSummary, &kinesis.DescribeStreamSummaryInput{StreamARN: &arn})
	page := mustCall(p, api.ListShards, &kinesis.ListShardsInput{StreamName: ptr(name), MaxResults: ptr(int32(2))})
	mustCall(p, api.ListShards, &kinesis.ListShardsInput{NextToken: page.NextToken})
	ts := p.dclk.Now()
	for _, f := range []types.ShardFilter{
		{Type: types.ShardFilterTypeAtLatest},
		{Type: types.ShardFilterTypeAtTrimHorizon},
		{Type: types.ShardFilterTypeAfterShardId, ShardId: ptr("shardId-000000000001")},
		{Type: types.ShardFilterTypeAtTimestamp, Timestamp: &ts},
		{Type: types.ShardFilterTypeFromTimestamp, Timestamp: &ts},
	} {
		mustCall(p, api.ListShards, &kinesis.ListShardsInput{StreamARN: &arn, ShardFilter: &f})
	}

	// Closed shards end with ChildShards and no NextShardIterator; the
	// SDK sees them through the Server.
	wantChildren := map[string][]string{
		"shardId-000000000000": {"shardId-000000000002", "shardId-000000000003"},
		"shardId-000000000001": {"shardId-000000000004"},
		"shardId-000000000003": {"shardId-000000000004"},
	}
	for sh, want := range wantChildren {
		it := mustCall(p, api.GetShardIterator, &kinesis.GetShardIteratorInput{StreamName: ptr(name), ShardId: &sh, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		out := mustCall(p, api.GetRecords, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
		if out.NextShardIterator != nil {
			t.Errorf("%s: got NextShardIterator, want nil at a closed shard's end", sh)
		}
		var got []string
		for _, c := range out.ChildShards {
			got = append(got, *c.ShardId)
		}
		if !slicesEqual(got, want) {
			t.Errorf("%s: got children %v, want %v", sh, got, want)
		}
		_, last := remoteGet(t, p.remote, name, sh)
		if last.NextShardIterator != nil || len(last.ChildShards) != len(want) {
			t.Errorf("%s over HTTP: got next %v, %d children; want nil, %d", sh, last.NextShardIterator, len(last.ChildShards), len(want))
		}
		if len(out.ChildShards) == 1 && len(out.ChildShards[0].ParentShards) != 2 {
			t.Errorf("%s: merged child has parents %v, want 2", sh, out.ChildShards[0].ParentShards)
		}
	}

	// ListStreams is served over HTTP only.
	ls, err := p.remote.(*kinesis.Client).ListStreams(context.Background(), &kinesis.ListStreamsInput{Limit: ptr(int32(1))})
	if err != nil {
		t.Fatal(err)
	}
	if !slicesEqual(ls.StreamNames, []string{"od"}) || !*ls.HasMoreStreams || ls.NextToken == nil ||
		len(ls.StreamSummaries) != 1 || ls.StreamSummaries[0].StreamModeDetails.StreamMode != types.StreamModeOnDemand {
		t.Errorf("got ListStreams %v more=%v token=%v, want [od] with more", ls.StreamNames, *ls.HasMoreStreams, ls.NextToken)
	}
	ls, err = p.remote.(*kinesis.Client).ListStreams(context.Background(), &kinesis.ListStreamsInput{NextToken: ls.NextToken})
	if err != nil {
		t.Fatal(err)
	}
	if !slicesEqual(ls.StreamNames, []string{name}) || *ls.HasMoreStreams || ls.NextToken != nil || *ls.StreamSummaries[0].StreamARN != arn {
		t.Errorf("got ListStreams page 2 %v more=%v, want [%s] and no more", ls.StreamNames, *ls.HasMoreStreams, name)
	}

	mustCall(p, api.UpdateMaxRecordSize, &kinesis.UpdateMaxRecordSizeInput{StreamARN: &arn, MaxRecordSizeInKiB: ptr(int32(2048))})
	mustCall(p, api.DeleteStream, &kinesis.DeleteStreamInput{StreamName: ptr(name)})
	if _, err := call(p, api.DescribeStream, &kinesis.DescribeStreamInput{StreamName: ptr(name)}); err == nil {
		t.Error("DescribeStream of a deleted stream: got no error")
	}
	// GetRecords is left out: remoteGet called it on the served side only.
	for _, op := range []string{"CreateStream", "PutRecords", "ListShards", "SplitShard", "MergeShards", "DeleteStream"} {
		if d, s := p.direct.Calls(op), p.served.Calls(op); d != s {
			t.Errorf("Calls(%q): got %d through the server, want %d", op, s, d)
		}
	}
}

func slicesEqual(a, b []string) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

// TestServerErrors checks that errors, injected or not, reach the SDK as
// its own types, with the status and message of the in-process error.
func TestServerErrors(t *testing.T) {
	getRecords := func(p *pair) error {
		it := mustCall(p, api.GetShardIterator, &kinesis.GetShardIteratorInput{StreamName: ptr(stream), ShardId: ptr("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeLatest})
		_, err := call(p, api.GetRecords, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
		return err
	}
	listShards := func(p *pair) error {
		_, err := call(p, api.ListShards, &kinesis.ListShardsInput{StreamName: ptr(stream)})
		return err
	}
	tests := []struct {
		name   string
		setup  func(*pair)
		do     func(*pair) error
		check  func(*testing.T, error)
		status int
	}{
		{"Throttling", func(p *pair) { p.inject("GetRecords", kinesistest.Every(1), kinesistest.Throttling()) },
			getRecords, wantErr[*types.ProvisionedThroughputExceededException], 400},
		{"LimitExceeded", func(p *pair) { p.inject("ListShards", kinesistest.FirstN(1), kinesistest.LimitExceeded()) },
			listShards, wantErr[*types.LimitExceededException], 400},
		{"ExpiredIterator", func(p *pair) { p.inject("GetRecords", kinesistest.FirstN(1), kinesistest.ExpiredIterator()) },
			getRecords, wantErr[*types.ExpiredIteratorException], 400},
		{"InternalFailure", func(p *pair) { p.inject("ListShards", kinesistest.Every(1), kinesistest.InternalFailure()) },
			listShards, wantCode("InternalFailure"), 500},
		{"plain error", func(p *pair) { p.inject("ListShards", kinesistest.Every(1), errors.New("boom")) },
			func(p *pair) error {
				// In process the error stays as given; only HTTP makes it an InternalFailure.
				_, p.remoteErr = p.remote.ListShards(context.Background(), &kinesis.ListShardsInput{StreamName: ptr(stream)})
				return p.remoteErr
			}, wantCode("InternalFailure"), 500},
		{"ExpireIterators", func(*pair) {}, func(p *pair) error {
			it := mustCall(p, api.GetShardIterator, &kinesis.GetShardIteratorInput{StreamName: ptr(stream), ShardId: ptr("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeLatest})
			p.direct.ExpireIterators()
			p.served.ExpireIterators()
			_, err := call(p, api.GetRecords, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
			return err
		}, wantErr[*types.ExpiredIteratorException], 400},
		{"iterator older than 5 minutes", func(*pair) {}, func(p *pair) error {
			it := mustCall(p, api.GetShardIterator, &kinesis.GetShardIteratorInput{StreamName: ptr(stream), ShardId: ptr("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeLatest})
			p.advance(5 * time.Minute)
			_, err := call(p, api.GetRecords, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
			return err
		}, wantErr[*types.ExpiredIteratorException], 400},
		{"ShardReadRate", func(*pair) {}, func(p *pair) error {
			for range 6 {
				if err := getRecords(p); err != nil {
					return err
				}
			}
			return nil
		}, wantErr[*types.ProvisionedThroughputExceededException], 400},
		{"ResourceNotFound", func(*pair) {}, func(p *pair) error {
			_, err := call(p, api.DescribeStreamSummary, &kinesis.DescribeStreamSummaryInput{StreamName: ptr("nope")})
			return err
		}, wantErr[*types.ResourceNotFoundException], 400},
		{"ResourceInUse", func(*pair) {}, func(p *pair) error {
			_, err := call(p, api.CreateStream, &kinesis.CreateStreamInput{StreamName: ptr(stream), ShardCount: ptr(int32(1))})
			return err
		}, wantErr[*types.ResourceInUseException], 400},
		{"InvalidArgument", func(*pair) {}, func(p *pair) error {
			_, err := call(p, api.GetRecords, &kinesis.GetRecordsInput{ShardIterator: ptr("not an iterator")})
			return err
		}, wantErr[*types.InvalidArgumentException], 400},
		{"ExpiredNextToken", func(*pair) {}, func(p *pair) error {
			page := mustCall(p, api.ListShards, &kinesis.ListShardsInput{StreamName: ptr(stream), MaxResults: ptr(int32(1))})
			p.advance(301 * time.Second)
			_, err := call(p, api.ListShards, &kinesis.ListShardsInput{NextToken: page.NextToken})
			return err
		}, wantErr[*types.ExpiredNextTokenException], 400},
		{"Validation", func(*pair) {}, func(p *pair) error {
			arn := "arn:aws:kinesis:us-east-1:123456789012:stream/" + stream
			_, err := call(p, api.UpdateMaxRecordSize, &kinesis.UpdateMaxRecordSizeInput{StreamARN: &arn, MaxRecordSizeInKiB: ptr(int32(1))})
			return err
		}, wantErr[*types.ValidationException], 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPair(t, kinesistest.ShardReadRate(5))
			for _, c := range []*kinesistest.Client{p.direct, p.served} {
				if _, err := c.AddStream(stream, 2); err != nil {
					t.Fatal(err)
				}
			}
			tc.setup(p)
			err := tc.do(p)
			if err == nil {
				t.Fatal("got no error")
			}
			// call compared the two errors; check the one the SDK decoded.
			if p.remoteErr == nil {
				t.Fatal("got no error over HTTP")
			}
			tc.check(t, p.remoteErr)
			var respErr *awshttp.ResponseError
			if !errors.As(p.remoteErr, &respErr) || respErr.HTTPStatusCode() != tc.status {
				t.Errorf("got %v, want an *awshttp.ResponseError with status %d", p.remoteErr, tc.status)
			}
		})
	}
}

func wantCode(code string) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != code {
			t.Fatalf("got error %v, want code %s", err, code)
		}
	}
}

// TestServerErrorsDecodeInSDK checks each fault kind on the SDK's own
// error, not the in-process one.
func TestServerErrorsDecodeInSDK(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		check  func(*testing.T, error)
		status int
	}{
		{"Throttling", kinesistest.Throttling(), wantErr[*types.ProvisionedThroughputExceededException], 400},
		{"LimitExceeded", kinesistest.LimitExceeded(), wantErr[*types.LimitExceededException], 400},
		{"ExpiredIterator", kinesistest.ExpiredIterator(), wantErr[*types.ExpiredIteratorException], 400},
		{"InternalFailure", kinesistest.InternalFailure(), wantCode("InternalFailure"), 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := kinesistest.New()
			k := serve(t, c)
			if _, err := c.AddStream(stream, 1); err != nil {
				t.Fatal(err)
			}
			c.Inject("ListShards", kinesistest.FirstN(1), tc.err)
			_, err := k.ListShards(context.Background(), &kinesis.ListShardsInput{StreamName: ptr(stream)})
			tc.check(t, err)
			var opErr *smithy.OperationError
			var respErr *awshttp.ResponseError
			if !errors.As(err, &opErr) || opErr.Operation() != "ListShards" ||
				!errors.As(err, &respErr) || respErr.HTTPStatusCode() != tc.status || respErr.ServiceRequestID() == "" {
				t.Errorf("got %#v, want an OperationError holding a ResponseError with status %d and a request ID", err, tc.status)
			}
			var apiErr smithy.APIError
			if errors.As(err, &apiErr); !strings.Contains(apiErr.ErrorMessage(), "injected by kinesistest") {
				t.Errorf("got message %q, want the injected one", apiErr.ErrorMessage())
			}
			// The next call succeeds: FirstN(1).
			if _, err := k.ListShards(context.Background(), &kinesis.ListShardsInput{StreamName: ptr(stream)}); err != nil {
				t.Errorf("second call: %v", err)
			}
			if got := c.Calls("ListShards"); got != 2 {
				t.Errorf("got Calls %d, want 2", got)
			}
		})
	}
}

// rawPost sends a request as a non-SDK client would and returns the status,
// the error type header and the body.
func rawPost(t *testing.T, url, method, target, contentType, body string) (int, string, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		t.Errorf("got Content-Type %q, want application/x-amz-json-1.1", ct)
	}
	if resp.Header.Get("X-Amzn-Requestid") == "" {
		t.Error("got no x-amzn-RequestId")
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", raw, err)
	}
	return resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"), m
}

// TestServerProtocol checks the wire format as another language's SDK
// would see it: exact member names, base64 data, epoch-second timestamps
// and AWS's error shape.
func TestServerProtocol(t *testing.T) {
	clk := newClock()
	c := kinesistest.New(kinesistest.Clock(clk.Now))
	srv := kinesistest.NewServer(c)
	defer srv.Close()
	const json11 = "application/x-amz-json-1.1"
	if _, err := c.AddStream(stream, 1); err != nil {
		t.Fatal(err)
	}
	clk.Advance(7 * time.Millisecond)

	status, _, m := rawPost(t, srv.URL, "POST", "Kinesis_20131202.PutRecord", json11,
		`{"StreamName":"s","PartitionKey":"pk","Data":"AAEC/w=="}`)
	if status != 200 || m["ShardId"] != "shardId-000000000000" || m["SequenceNumber"] == nil {
		t.Fatalf("PutRecord: got %d %v", status, m)
	}
	status, _, m = rawPost(t, srv.URL, "POST", "Kinesis_20131202.GetShardIterator", "application/json",
		`{"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"AT_TIMESTAMP","Timestamp":1.735787045007E9}`)
	if status != 200 {
		t.Fatalf("GetShardIterator: got %d %v", status, m)
	}
	status, _, m = rawPost(t, srv.URL, "POST", "Kinesis_20131202.GetRecords", json11,
		fmt.Sprintf(`{"ShardIterator":%q}`, m["ShardIterator"]))
	if status != 200 {
		t.Fatalf("GetRecords: got %d %v", status, m)
	}
	recs, _ := m["Records"].([]any)
	if len(recs) != 1 {
		t.Fatalf("GetRecords: got %v, want 1 record", m)
	}
	r := recs[0].(map[string]any)
	// 2025-01-02T03:04:05.007Z
	if r["Data"] != "AAEC/w==" || r["PartitionKey"] != "pk" || r["ApproximateArrivalTimestamp"] != 1735787045.007 || r["SequenceNumber"] == nil {
		t.Errorf("got record %v, want Data AAEC/w==, PartitionKey pk, ApproximateArrivalTimestamp 1735787045.007", r)
	}
	if m["MillisBehindLatest"] != 0.0 || m["NextShardIterator"] == nil {
		t.Errorf("got %v, want MillisBehindLatest 0 and a NextShardIterator", m)
	}
	if _, ok := m["ChildShards"]; ok {
		t.Errorf("got ChildShards in %v, want it absent for an open shard", m)
	}

	status, _, m = rawPost(t, srv.URL, "POST", "Kinesis_20131202.DescribeStreamSummary", json11, `{"StreamName":"s"}`)
	if d, _ := m["StreamDescriptionSummary"].(map[string]any); status != 200 || d["StreamCreationTimestamp"] != 1735787045.0 || d["OpenShardCount"] != 1.0 {
		t.Errorf("DescribeStreamSummary: got %d %v, want StreamCreationTimestamp 1735787045 and OpenShardCount 1", status, m)
	}
	status, _, m = rawPost(t, srv.URL, "POST", "Kinesis_20131202.ListShards", json11, `{"StreamName":"s"}`)
	sh := m["Shards"].([]any)[0].(map[string]any)
	if _, ok := sh["ParentShardId"]; status != 200 || ok || sh["SequenceNumberRange"].(map[string]any)["EndingSequenceNumber"] != nil {
		t.Errorf("ListShards: got %d %v, want absent parents and ending sequence number", status, m)
	}

	errTests := []struct {
		name, method, target, contentType, body string
		status                                  int
		code                                    string
	}{
		{"unknown operation", "POST", "Kinesis_20131202.Nope", json11, `{}`, 400, "UnknownOperationException"},
		{"no target", "POST", "", json11, `{}`, 400, "UnknownOperationException"},
		{"GET", "GET", "Kinesis_20131202.ListShards", json11, ``, 400, "UnknownOperationException"},
		{"malformed JSON", "POST", "Kinesis_20131202.ListShards", json11, `{"StreamName":`, 400, "SerializationException"},
		{"wrong type", "POST", "Kinesis_20131202.CreateStream", json11, `{"StreamName":"x","ShardCount":"1"}`, 400, "SerializationException"},
		{"bad base64", "POST", "Kinesis_20131202.PutRecord", json11, `{"StreamName":"s","PartitionKey":"k","Data":"!!"}`, 400, "SerializationException"},
		{"bad timestamp", "POST", "Kinesis_20131202.GetShardIterator", json11, `{"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"AT_TIMESTAMP","Timestamp":"yesterday"}`, 400, "SerializationException"},
		{"CBOR", "POST", "Kinesis_20131202.ListShards", "application/x-amz-cbor-1.1", "\xa0", 400, "SerializationException"},
		{"client error", "POST", "Kinesis_20131202.DescribeStream", json11, `{"StreamName":"nope"}`, 400, "ResourceNotFoundException"},
		{"empty body is {}", "POST", "Kinesis_20131202.DescribeStream", json11, ``, 400, "InvalidArgumentException"},
	}
	for _, tc := range errTests {
		t.Run(tc.name, func(t *testing.T) {
			status, hdr, m := rawPost(t, srv.URL, tc.method, tc.target, tc.contentType, tc.body)
			if status != tc.status || hdr != tc.code || m["__type"] != tc.code || m["message"] == "" {
				t.Errorf("got %d, x-amzn-ErrorType %q, body %v; want %d, %s with a message", status, hdr, m, tc.status, tc.code)
			}
		})
	}
}

// TestServerConcurrent reads and writes through one Server from many
// goroutines, and in process at the same time; run it with -race.
func TestServerConcurrent(t *testing.T) {
	c := kinesistest.New()
	k := serve(t, c)
	ctx := context.Background()
	if _, err := c.AddStream(stream, 4); err != nil {
		t.Fatal(err)
	}
	const writers, batches, perBatch = 4, 10, 100
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers+4)
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				var entries []types.PutRecordsRequestEntry
				for i := range perBatch {
					entries = append(entries, types.PutRecordsRequestEntry{
						PartitionKey: ptr(fmt.Sprintf("w%d-%d-%d", w, b, i)), Data: bytes.Repeat([]byte{byte(i)}, 100),
					})
				}
				if _, err := k.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: ptr(stream), Records: entries}); err != nil {
					errs <- err
					return
				}
			}
		})
		wg.Go(func() {
			for i := range batches * perBatch / 10 {
				if _, _, err := c.Put(ctx, stream, fmt.Sprint("direct-", w, "-", i), []byte("d")); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	// Readers poll every shard over HTTP meanwhile.
	for s := range 4 {
		wg.Go(func() {
			it, err := k.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: ptr(stream),
				ShardId: ptr(fmt.Sprintf("shardId-%012d", s)), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
			if err != nil {
				errs <- err
				return
			}
			next := it.ShardIterator
			for range 20 {
				out, err := k.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: next})
				if err != nil {
					errs <- err
					return
				}
				next = out.NextShardIterator
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	total := 0
	for s := range 4 {
		recs, _ := remoteGet(t, k, stream, fmt.Sprintf("shardId-%012d", s))
		total += len(recs)
	}
	if want := writers * (batches*perBatch + batches*perBatch/10); total != want {
		t.Errorf("got %d records over HTTP, want %d", total, want)
	}
}

func TestServerClose(t *testing.T) {
	c := kinesistest.New()
	srv := kinesistest.NewServer(c)
	k := testserver.KinesisClient(t, srv.URL, func(o *kinesis.Options) { o.Retryer = aws.NopRetryer{} })
	if _, err := k.CreateStream(context.Background(), &kinesis.CreateStreamInput{StreamName: ptr(stream), ShardCount: ptr(int32(1))}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(srv.Close) // idempotent and concurrent
	}
	wg.Wait()
	if _, err := k.ListShards(context.Background(), &kinesis.ListShardsInput{StreamName: ptr(stream)}); err == nil {
		t.Error("ListShards after Close: got no error")
	}
	// The Client outlives the Server.
	if _, _, err := c.Put(context.Background(), stream, "k", []byte("x")); err != nil {
		t.Errorf("Put after Close: %v", err)
	}
}
