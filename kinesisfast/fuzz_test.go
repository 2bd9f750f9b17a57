package kinesisfast_test

import (
	"context"
	"math/rand/v2"
	"net/http"
	"reflect"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/esmkit/esmkit/internal/event"
	"github.com/esmkit/esmkit/kinesisfast"
)

// errorCases are the responses FuzzGetRecords pairs with a fuzzed body:
// kind 0 is success, the others error statuses, some with the error type
// in the X-Amzn-ErrorType header instead of the body.
var errorCases = []struct {
	status int
	header http.Header
}{
	{http.StatusOK, nil},
	{400, nil},
	{400, http.Header{"X-Amzn-Errortype": {"ProvisionedThroughputExceededException"}}},
	{400, http.Header{"X-Amzn-Errortype": {"ExpiredIteratorException:http://internal.amazon.com/coral/com.amazon.coral.service/"}}},
	{500, nil},
	{503, nil},
	{204, nil},
}

// FuzzGetRecords is the differential test of the decoder. For any body and
// response kind, a client with the decoder installed and one without give:
//   - both a panic (the SDK panics on some bodies, such as a "NaN"
//     timestamp; the decoder hands those to it), or
//   - errors with equal strings and equal types along the Unwrap chain, or
//   - outputs equal by reflect.DeepEqual, ResultMetadata aside.
//
// And where the fast decoder alone accepts a 2xx body, its output is that
// output, and an EventPage filled with it matches one filled by the SDK path
// and what internal/event.Convert makes of the SDK's output.
func FuzzGetRecords(f *testing.F) {
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 40 {
		g := &gen{rng: rng, odd: i%4 != 0, child: i%3 == 0, size: func(r *rand.Rand) int { return r.IntN(40) }}
		f.Add(uint8(0), g.body(rng.IntN(4)))
	}
	for _, s := range []string{
		`{"Records":[{"ApproximateArrivalTimestamp":"NaN"}]}`,
		`{"Records":[{"ApproximateArrivalTimestamp":1e15,"Data":"QR=="}]}`,
		`{"Records":[{"PartitionKey":"\ud800\udc00\udc00"}],"MillisBehindLatest":-9223372036854775808}`,
		`{"Records":[{"Data":"QUJ\u0044"}]}`,
		`{"Records":[`,
	} {
		f.Add(uint8(0), []byte(s))
	}
	for k := range errorCases {
		f.Add(uint8(k), []byte(`{"__type":"ProvisionedThroughputExceededException","message":"Rate exceeded"}`))
		f.Add(uint8(k), []byte(`{"__type":"com.amazonaws.kinesis#ExpiredIteratorException","Message":"Iterator expired"}`))
	}
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		ec := errorCases[int(kind)%len(errorCases)]
		c := &canned{status: ec.status, header: ec.header, body: body}
		sdk := call(context.Background(), newClient(c, false))
		ev := &kinesisfast.EventPage{ShardID: "shardId-000000000000", Region: "us-east-1"}
		fast := call(kinesisfast.WithEventPage(context.Background(), ev), newClient(c, true))
		if d := diff(fast, sdk); d != "" {
			t.Fatal(d)
		}
		if fast.err == nil && fast.panicked == nil && !ev.Filled {
			t.Fatal("EventPage not filled")
		}
		if ec.status/100 != 2 {
			return
		}
		ev2 := &kinesisfast.EventPage{ShardID: ev.ShardID, Region: ev.Region}
		out, ok := kinesisfast.DecodeFast(body, ev2)
		if !ok {
			return
		}
		if sdk.err != nil || sdk.panicked != nil {
			t.Fatalf("fast decoder accepted a body the SDK refuses (%v, panic %v)", sdk.err, sdk.panicked)
		}
		if !reflect.DeepEqual(out, sdk.out) {
			t.Fatalf("got  %s\nwant %s", dump(out), dump(sdk.out))
		}
		if !reflect.DeepEqual(ev2.Records, ev.Records) {
			t.Fatalf("EventPage: got %+v, want %+v", ev2.Records, ev.Records)
		}
		// And those are the records Convert makes from the SDK's output.
		src := event.Source{Region: ev.Region, ShardID: ev.ShardID}
		want := make([]events.KinesisEventRecord, len(sdk.out.Records))
		for i := range want {
			event.Convert(&want[i], &src, &sdk.out.Records[i])
		}
		if !reflect.DeepEqual(ev2.Records, want) {
			t.Fatalf("EventPage: got %+v, want Convert's %+v", ev2.Records, want)
		}
	})
}
