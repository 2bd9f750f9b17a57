package kinesisfast_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/esmkit/esmkit/internal/event"
	"github.com/esmkit/esmkit/kinesisfast"
)

// compare calls GetRecords on an SDK client and on a fast one, both
// answered with status and body, and fails t on any difference.
func compare(t *testing.T, status int, header http.Header, body []byte) (sdk, fast result) {
	t.Helper()
	c := &canned{status: status, header: header, body: body}
	sdk = call(context.Background(), newClient(c, false))
	fast = call(context.Background(), newClient(c, true))
	if d := diff(fast, sdk); d != "" {
		t.Fatalf("body %q:\n%s", body, d)
	}
	return sdk, fast
}

func TestTricky(t *testing.T) {
	tests := []struct {
		name string
		body string
		// fast is whether the fast decoder decodes it itself.
		fast bool
	}{
		{"empty object", `{}`, true},
		{"empty records", `{"Records":[],"MillisBehindLatest":0}`, true},
		{"null records", `{"Records":null,"NextShardIterator":"x"}`, true},
		{"null record", `{"Records":[null,{}]}`, true},
		{"empty data", `{"Records":[{"Data":""}]}`, true},
		{"null data", `{"Records":[{"Data":null,"PartitionKey":null}]}`, true},
		{"padding", `{"Records":[{"Data":"QQ=="},{"Data":"QUI="},{"Data":"QUJD"}]}`, true},
		{"non-canonical padding bits", `{"Records":[{"Data":"QR=="}]}`, true},
		{"escaped data", `{"Records":[{"Data":"QUJ\u0044"}]}`, false},
		{"newline in data", `{"Records":[{"Data":"QUJD` + "\n" + `RA=="}]}`, false},
		{"escaped newline in data", `{"Records":[{"Data":"QUJD\nRA=="}]}`, false},
		{"unpadded data", `{"Records":[{"Data":"QQ"}]}`, false},
		{"exponent time", `{"Records":[{"ApproximateArrivalTimestamp":1.441215410867E9}]}`, true},
		{"integer time", `{"Records":[{"ApproximateArrivalTimestamp":1441215410}]}`, true},
		{"negative time", `{"Records":[{"ApproximateArrivalTimestamp":-1.0005}]}`, true},
		{"long fraction", `{"Records":[{"ApproximateArrivalTimestamp":1441215410.8679999999999999}]}`, true},
		{"huge time", `{"Records":[{"ApproximateArrivalTimestamp":1e300}]}`, false},
		{"time overflow", `{"Records":[{"ApproximateArrivalTimestamp":1e400}]}`, false},
		{"string time", `{"Records":[{"ApproximateArrivalTimestamp":"Infinity"}]}`, false},
		{"int64 max millis", `{"MillisBehindLatest":9223372036854775807}`, true},
		{"int64 min millis", `{"MillisBehindLatest":-9223372036854775808}`, true},
		{"millis overflow", `{"MillisBehindLatest":9223372036854775808}`, false},
		{"float millis", `{"MillisBehindLatest":1.0}`, false},
		{"escapes", `{"Records":[{"PartitionKey":"\u00e9\ud83d\ude00\ud800x\"\\\/\b\f\n\r\t"}]}`, true},
		{"lone low surrogate", `{"Records":[{"PartitionKey":"\udc00\ud800\ud800\udc00"}]}`, true},
		{"raw invalid UTF-8", "{\"Records\":[{\"PartitionKey\":\"\xff\xfe\"}]}", true},
		{"invalid UTF-8 and escape", "{\"Records\":[{\"PartitionKey\":\"\xff\\n\xed\xa0\x80\"}]}", true},
		{"bad escape", `{"Records":[{"PartitionKey":"\x"}]}`, false},
		{"control char", "{\"Records\":[{\"PartitionKey\":\"\x01\"}]}", false},
		{"duplicate members", `{"Records":[{"PartitionKey":"a","PartitionKey":"bb","Data":"QQ==","Data":"QUJD","PartitionKey":null}]}`, true},
		{"duplicate records", `{"Records":[{}],"Records":[{},{}]}`, false},
		{"encryption types", `{"Records":[{"EncryptionType":"NONE"},{"EncryptionType":"KMS"},{"EncryptionType":"other"},{"EncryptionType":""}]}`, true},
		{"unknown members", `{"X":{"a":[1,{"b":[]}],"\u0063":"d"},"Records":[{"Y":[true,false,null,-0.5e-3]}]}`, true},
		{"escaped key", `{"Rec\u006frds":[{}]}`, false},
		{"child shards", `{"Records":[],"ChildShards":[{"ShardId":"s2","ParentShards":["s0",null],"HashKeyRange":{"StartingHashKey":"0","EndingHashKey":"9"}},null]}`, false},
		{"trailing bytes", `{"Records":[]} x`, false},
		{"trailing whitespace", "{\"Records\":[]} \n", true},
		{"top-level null", `null`, false},
		{"empty body", ``, false},
		{"whitespace body", ` `, false},
		{"truncated", `{"Records":[{"Data":"QQ==`, false},
		{"truncated list", `{"Records":[`, false},
		{"trailing comma", `{"Records":[{},]}`, false},
		{"leading zero", `{"MillisBehindLatest":01}`, false},
		{"number record", `{"Records":[1]}`, false},
		{"deep unknown", `{"X":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			compare(t, http.StatusOK, nil, []byte(tc.body))
			if _, ok := kinesisfast.DecodeFast([]byte(tc.body), nil); ok != tc.fast {
				t.Errorf("got fast path %v, want %v", ok, tc.fast)
			}
		})
	}
}

// TestNaNTimestamp records an SDK bug that the decoder keeps: smithy-go's
// ParseEpochSeconds panics (big.ErrNaN) on the string "NaN", which its
// readFloat accepts. The fast path hands such bodies to the SDK, so both
// clients panic alike.
func TestNaNTimestamp(t *testing.T) {
	sdk, _ := compare(t, http.StatusOK, nil, []byte(`{"Records":[{"ApproximateArrivalTimestamp":"NaN"}]}`))
	if sdk.panicked == nil {
		t.Log("the SDK no longer panics on a NaN timestamp")
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header http.Header
		body   string
		target any
	}{
		{"throughput", 400, nil, `{"__type":"ProvisionedThroughputExceededException","message":"Rate exceeded for shard shardId-000000000000 in stream s under account 123456789012."}`, new(*types.ProvisionedThroughputExceededException)},
		{"expired", 400, nil, `{"__type":"ExpiredIteratorException","message":"Iterator expired. The iterator was created at time Mon Jan 01 00:00:00 UTC 2024 while right now it is Mon Jan 01 00:05:01 UTC 2024 which is further in the future than the tolerated delay of 300000 milliseconds."}`, new(*types.ExpiredIteratorException)},
		{"header type", 400, http.Header{"X-Amzn-Errortype": {"ExpiredIteratorException:http://internal.amazon.com/"}}, `{"message":"expired"}`, new(*types.ExpiredIteratorException)},
		{"access denied", 400, nil, `{"__type":"com.amazonaws.kinesis#AccessDeniedException","Message":"no"}`, new(*types.AccessDeniedException)},
		{"kms throttling", 400, nil, `{"__type":"KMSThrottlingException","message":"slow down"}`, new(*types.KMSThrottlingException)},
		{"not found", 400, nil, `{"__type":"ResourceNotFoundException","message":"Shard shardId-000000000009 in stream s under account 1 does not exist"}`, new(*types.ResourceNotFoundException)},
		{"unknown", 400, nil, `{"__type":"SomethingNewException","message":"new"}`, new(*smithy.GenericAPIError)},
		{"internal", 500, nil, `{"__type":"InternalFailure","message":"oops"}`, new(smithy.APIError)},
		{"unavailable html", 503, nil, `<html>Service Unavailable</html>`, new(*smithy.DeserializationError)},
		{"empty", 502, nil, ``, new(*smithy.GenericAPIError)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sdk, fast := compare(t, tc.status, tc.header, []byte(tc.body))
			if sdk.err == nil {
				t.Fatal("got no error, want one")
			}
			if !errors.As(fast.err, tc.target) {
				t.Errorf("got %T (%v), want it to be %T", fast.err, fast.err, tc.target)
			}
		})
	}
}

// TestGenerated compares the clients on generated bodies, and checks that
// the fast decoder itself decodes those without ChildShards.
func TestGenerated(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		g := &gen{rng: rng, odd: i%3 != 0, child: i%5 == 0, size: func(r *rand.Rand) int {
			switch r.IntN(10) {
			case 0:
				return 0
			case 1:
				return 1 + r.IntN(3)
			case 2:
				return 100_000 + r.IntN(1000)
			}
			return r.IntN(1500)
		}}
		body := g.body(rng.IntN(20))
		sdk, _ := compare(t, http.StatusOK, nil, body)
		if sdk.err != nil {
			t.Fatalf("generated body %q: SDK error %v", body, sdk.err)
		}
		got, ok := kinesisfast.DecodeFast(body, nil)
		if want := sdk.out.ChildShards == nil; ok != want {
			t.Fatalf("body %q: got fast path %v, want %v", body, ok, want)
		}
		if ok && !reflect.DeepEqual(got, sdk.out) {
			t.Fatalf("body %q:\ngot  %s\nwant %s", body, dump(got), dump(sdk.out))
		}
	}
}

// TestEventPage checks that the records of an EventPage are those
// internal/event.Convert makes, on the fast path and on the SDK's.
func TestEventPage(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 50 {
		g := &gen{rng: rng, odd: true, child: i%2 == 0, size: func(r *rand.Rand) int { return r.IntN(300) }}
		body := g.body(rng.IntN(10))
		c := &canned{status: http.StatusOK, body: body}
		ev := &kinesisfast.EventPage{
			StreamARN: "arn:aws:kinesis:eu-west-1:123456789012:stream/s", Region: "eu-west-1",
			InvokeIdentityARN: "arn:aws:iam::123456789012:role/r", ShardID: "shardId-000000000001",
		}
		res := call(kinesisfast.WithEventPage(context.Background(), ev), newClient(c, true))
		if res.err != nil {
			t.Fatal(res.err)
		}
		if !ev.Filled {
			t.Fatal("got Filled false, want true")
		}
		src := event.Source{StreamARN: ev.StreamARN, Region: ev.Region, InvokeIdentityARN: ev.InvokeIdentityARN, ShardID: ev.ShardID}
		want := make([]events.KinesisEventRecord, len(res.out.Records))
		for i := range want {
			event.Convert(&want[i], &src, &res.out.Records[i])
		}
		if !reflect.DeepEqual(ev.Records, want) {
			t.Fatalf("body %q:\ngot  %+v\nwant %+v", body, ev.Records, want)
		}
	}
	// A failed call clears the page.
	ev := &kinesisfast.EventPage{Records: make([]events.KinesisEventRecord, 1), Filled: true}
	c := &canned{status: 400, body: []byte(`{"__type":"ExpiredIteratorException"}`)}
	if res := call(kinesisfast.WithEventPage(context.Background(), ev), newClient(c, true)); res.err == nil || ev.Filled || ev.Records != nil {
		t.Fatalf("got error %v, Filled %v, %d records; want an error and a cleared page", res.err, ev.Filled, len(ev.Records))
	}
}

// TestEventPageCopiesStringsOnce checks that the fast decoder builds an
// EventPage's records straight from the body: a record's sequence number is
// the tail of its eventID, the output's records point into the event
// records instead of holding copies of their own, and a page of 1,000
// records costs a few allocations, not one or more per record.
func TestEventPageCopiesStringsOnce(t *testing.T) {
	g := &gen{rng: rand.New(rand.NewPCG(7, 8)), size: func(*rand.Rand) int { return 100 }}
	body := g.body(1000)
	ev := &kinesisfast.EventPage{ShardID: "shardId-000000000003", Region: "eu-west-1"}
	out, ok := kinesisfast.DecodeFast(body, ev)
	if !ok || !ev.Filled || len(ev.Records) != 1000 || len(out.Records) != 1000 {
		t.Fatalf("decoded %v, filled %v, %d event records, %d records; want 1,000 of each", ok, ev.Filled, len(ev.Records), len(out.Records))
	}
	for i := range ev.Records {
		e, r := &ev.Records[i], &out.Records[i]
		k := &e.Kinesis
		if tail := unsafe.StringData(e.EventID[len(ev.ShardID)+1:]); unsafe.StringData(k.SequenceNumber) != tail {
			t.Fatalf("record %d: sequence number is not the tail of eventID %q", i, e.EventID)
		}
		if r.SequenceNumber != &k.SequenceNumber || r.PartitionKey != &k.PartitionKey ||
			r.ApproximateArrivalTimestamp != &k.ApproximateArrivalTimestamp.Time || unsafe.SliceData(r.Data) != unsafe.SliceData(k.Data) {
			t.Fatalf("record %d: the output's record does not point into its event record", i)
		}
	}
	decode := func(withEvents bool) float64 {
		return testing.AllocsPerRun(10, func() {
			var e *kinesisfast.EventPage
			if withEvents {
				e = &kinesisfast.EventPage{ShardID: ev.ShardID, Region: ev.Region}
			}
			if _, ok := kinesisfast.DecodeFast(body, e); !ok {
				t.Fatal("not decoded")
			}
		})
	}
	// The event records add their array and the EventPage, and their 8
	// string blocks replace the page's one arena and its array of values.
	if plain, with := decode(false), decode(true); with-plain > 10 {
		t.Errorf("decoding 1,000 records: %.0f allocations with an EventPage, %.0f without; want at most 10 more", with, plain)
	}
}

// TestOtherOperations checks that the decoder leaves other operations'
// stacks alone and that installing it twice is harmless.
func TestOtherOperations(t *testing.T) {
	c := &canned{status: http.StatusOK, body: []byte(`{"ShardIterator":"it"}`)}
	client := newClient(c, true)
	out, err := client.GetShardIterator(context.Background(), &kinesis.GetShardIteratorInput{
		StreamName: aws.String("s"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeLatest,
	}, kinesisfast.WithDecoder())
	if err != nil || *out.ShardIterator != "it" {
		t.Fatalf("got %v, %v; want iterator it", out, err)
	}
	c.body = []byte(`{"Records":[{"Data":"QQ=="}]}`)
	rec, err := client.GetRecords(context.Background(), input, kinesisfast.WithDecoder())
	if err != nil || len(rec.Records) != 1 || string(rec.Records[0].Data) != "A" {
		t.Fatalf("got %v, %v; want one record A", rec, err)
	}
}

// TestAddDecoderIfAvailable: on the SDK's GetRecords stack it installs the
// decoder as AddDecoder does; on a stack without "OperationDeserializer"
// AddDecoder fails the call while AddDecoderIfAvailable leaves the stack to
// the SDK.
func TestAddDecoderIfAvailable(t *testing.T) {
	g := &gen{rng: rand.New(rand.NewPCG(2, 2)), size: func(*rand.Rand) int { return 8 }}
	client := newClient(&canned{status: http.StatusOK, body: g.body(2)}, false)
	ev := &kinesisfast.EventPage{ShardID: "shardId-000000000000"}
	ctx := kinesisfast.WithEventPage(context.Background(), ev)
	out, err := client.GetRecords(ctx, input, kinesis.WithAPIOptions(kinesisfast.AddDecoderIfAvailable))
	if err != nil || len(out.Records) != 2 || !ev.Filled {
		t.Fatalf("on the SDK's stack: %d records, err %v, event page filled %v; want the decoder installed", len(out.Records), err, ev.Filled)
	}

	bare := func() *middleware.Stack { return middleware.NewStack("GetRecords", smithyhttp.NewStackRequest) }
	if err := kinesisfast.AddDecoder(bare()); !errors.Is(err, kinesisfast.ErrNoDeserializer) {
		t.Errorf("AddDecoder on a stack without OperationDeserializer: %v, want ErrNoDeserializer", err)
	}
	stack := bare()
	if err := kinesisfast.AddDecoderIfAvailable(stack); err != nil {
		t.Errorf("AddDecoderIfAvailable on a stack without OperationDeserializer: %v, want nil", err)
	}
	if _, ok := stack.Deserialize.Get(kinesisfast.ID); ok {
		t.Error("AddDecoderIfAvailable installed the decoder on a stack without OperationDeserializer")
	}
}
