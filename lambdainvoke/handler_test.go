package lambdainvoke_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	lambdago "github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/esmkit/esmkit/esm"
	"github.com/esmkit/esmkit/lambdainvoke"
	"github.com/esmkit/esmkit/lambdainvoke/lambdainvoketest"
	"github.com/esmkit/esmkit/retry"
)

// recorder wraps a deployed function and keeps the payloads it received.
type recorder struct {
	f lambdainvoketest.Function

	mu       sync.Mutex
	payloads [][]byte
}

func (r *recorder) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	r.mu.Lock()
	r.payloads = append(r.payloads, bytes.Clone(payload))
	r.mu.Unlock()
	return r.f.Invoke(ctx, payload)
}

func (r *recorder) last() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.payloads) == 0 {
		return nil
	}
	return r.payloads[len(r.payloads)-1]
}

// raw is a deployed function that answers with a fixed payload.
type raw string

func (p raw) Invoke(context.Context, []byte) ([]byte, error) { return []byte(p), nil }

type poisonError struct{ seq string }

func (e *poisonError) Error() string { return "poison record " + e.seq }

func batch(n int) events.KinesisEvent {
	ev := events.KinesisEvent{}
	for i := range n {
		seq := fmt.Sprintf("4959033827149025660855969253836157109592157598913658%04d", i)
		ev.Records = append(ev.Records, record("shardId-000000000000", seq, "k", []byte(fmt.Sprintf(`{"n":%d}`, i)), time.UnixMilli(1767225600000+int64(i))))
	}
	return ev
}

func TestHandlerOutcomes(t *testing.T) {
	srv := lambdainvoketest.NewServer()
	defer srv.Close()
	ev := batch(3)
	seq := func(i int) string { return ev.Records[i].Kinesis.SequenceNumber }

	// Functions written as for lambda.Start, run by aws-lambda-go.
	srv.AddFunction("ok", lambdago.NewHandler(func(context.Context, events.KinesisEvent) (events.KinesisEventResponse, error) {
		return events.KinesisEventResponse{}, nil
	}))
	srv.AddFunction("ok-error-only", lambdago.NewHandler(func(context.Context, events.KinesisEvent) error { return nil }))
	srv.AddFunction("partial", lambdago.NewHandler(func(_ context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
		return events.KinesisEventResponse{BatchItemFailures: []events.KinesisBatchItemFailure{
			{ItemIdentifier: ev.Records[2].Kinesis.SequenceNumber}, {ItemIdentifier: ev.Records[1].Kinesis.SequenceNumber}}}, nil
	}))
	srv.AddFunction("fails", lambdago.NewHandler(func(_ context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
		return events.KinesisEventResponse{}, &poisonError{ev.Records[0].Kinesis.SequenceNumber}
	}))
	srv.AddFunction("panics", lambdago.NewHandler(func(context.Context, events.KinesisEvent) error { panic("oops") }))
	srv.AddFunction("empty-object", raw(`{}`))
	srv.AddFunction("empty-list", raw(`{"batchItemFailures":[]}`))
	srv.AddFunction("bad-key", raw(`{"batchItemFailures":[{"itemId":"1"}]}`))
	srv.AddFunction("empty-id", raw(`{"batchItemFailures":[{"itemIdentifier":""}]}`))
	srv.AddFunction("not-object", raw(`"done"`))
	srv.AddFunction("huge-response", raw(`"`+strings.Repeat("x", lambdainvoketest.MaxPayload)+`"`))

	type want struct {
		failures []string // BatchItemFailures; nil for none
		errType  any      // pointer to the error type errors.As must find
		check    func(t *testing.T, err error)
	}
	invalid := []string{""}
	tests := []struct {
		name     string
		function string
		fault    *lambdainvoketest.Fault
		opts     []lambdainvoke.Option
		want     want
	}{
		{name: "success", function: "ok"},
		{name: "success, null response", function: "ok-error-only"},
		{name: "success, {}", function: "empty-object"},
		{name: "success, empty list", function: "empty-list"},
		{name: "partial response", function: "partial", want: want{failures: []string{seq(2), seq(1)}}},
		{name: "invalid partial response, bad key", function: "bad-key", want: want{failures: invalid}},
		{name: "invalid partial response, empty id", function: "empty-id", want: want{failures: invalid}},
		{name: "invalid partial response, not an object", function: "not-object", want: want{failures: invalid}},
		{name: "function error", function: "fails", want: want{errType: new(*lambdainvoke.FunctionError), check: func(t *testing.T, err error) {
			fe := asFunctionError(t, err)
			wantDoc := fmt.Sprintf(`{"errorMessage":"poison record %s","errorType":"poisonError"}`, seq(0))
			if string(fe.Payload) != wantDoc || fe.Type != "Unhandled" || fe.StatusCode != 200 || fe.ExecutedVersion != "$LATEST" || fe.RequestID == "" || fe.FunctionName != "fails" {
				t.Errorf("got %+v (payload %s), want Unhandled, 200, $LATEST, a request ID and payload %s", fe, fe.Payload, wantDoc)
			}
			if want := "lambdainvoke: fails: function error (Unhandled): poisonError: poison record " + seq(0); err.Error() != want {
				t.Errorf("got message %q, want %q", err.Error(), want)
			}
		}}},
		{name: "function panic", function: "panics", want: want{errType: new(*lambdainvoke.FunctionError)}},
		{name: "response too large", function: "huge-response", want: want{errType: new(*lambdainvoke.FunctionError), check: func(t *testing.T, err error) {
			if fe := asFunctionError(t, err); !strings.Contains(string(fe.Payload), "Function.ResponseSizeTooLarge") {
				t.Errorf("got payload %s, want Function.ResponseSizeTooLarge", fe.Payload)
			}
		}}},
		{name: "version qualifier", function: "fails", opts: []lambdainvoke.Option{lambdainvoke.Qualifier("7")},
			want: want{errType: new(*lambdainvoke.FunctionError), check: func(t *testing.T, err error) {
				if v := asFunctionError(t, err).ExecutedVersion; v != "7" {
					t.Errorf("got executed version %q, want 7", v)
				}
			}}},
		{name: "alias in the name", function: "fails:live", want: want{errType: new(*lambdainvoke.FunctionError), check: func(t *testing.T, err error) {
			if v := asFunctionError(t, err).ExecutedVersion; v != "1" {
				t.Errorf("got executed version %q, want 1", v)
			}
		}}},
		{name: "429 throttle", function: "ok", fault: ptr(lambdainvoketest.TooManyRequests()),
			want: want{errType: new(*esm.ThrottleError), check: func(t *testing.T, err error) {
				var tmr *types.TooManyRequestsException
				if !errors.As(err, &tmr) {
					t.Fatalf("got %v, want a TooManyRequestsException", err)
				}
				if tmr.Reason != types.ThrottleReasonReservedFunctionConcurrentInvocationLimitExceeded || deref(tmr.RetryAfterSeconds) != "1" || deref(tmr.Message) != "Rate Exceeded." {
					t.Errorf("got reason %q, retry after %q, message %q", tmr.Reason, deref(tmr.RetryAfterSeconds), deref(tmr.Message))
				}
				if code := httpStatus(err); code != 429 {
					t.Errorf("got status %d, want 429", code)
				}
			}}},
		{name: "5xx service error", function: "ok", fault: ptr(lambdainvoketest.ServiceException()),
			want: want{errType: new(*esm.ThrottleError), check: func(t *testing.T, err error) {
				if !errors.As(err, new(*types.ServiceException)) || httpStatus(err) != 500 {
					t.Errorf("got %v, want a ServiceException with status 500", err)
				}
			}}},
		{name: "ENI limit", function: "ok", fault: &lambdainvoketest.Fault{Status: 502, Type: "ENILimitReachedException", Message: "ENI limit"},
			want: want{errType: new(*types.ENILimitReachedException), check: isThrottle}},
		{name: "permission denied", function: "ok", fault: &lambdainvoketest.Fault{Status: 403, Type: "AccessDeniedException", Message: "not authorized to perform: lambda:InvokeFunction"},
			want: want{errType: new(smithy.APIError), check: isThrottle}},
		{name: "function not found", function: "deleted",
			want: want{errType: new(*types.ResourceNotFoundException), check: isThrottle}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.fault != nil {
				srv.FailNext(1, *tc.fault)
			}
			h, err := lambdainvoke.Handler(srv.Client(), tc.function, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := h(context.Background(), ev)
			if tc.want.errType == nil {
				if err != nil {
					t.Fatalf("got error %v, want none", err)
				}
			} else if !errors.As(err, tc.want.errType) {
				t.Fatalf("got error %v (%T), want %T", err, err, reflect.ValueOf(tc.want.errType).Elem().Interface())
			}
			var got []string
			for _, f := range resp.BatchItemFailures {
				got = append(got, f.ItemIdentifier)
			}
			if !reflect.DeepEqual(got, tc.want.failures) {
				t.Errorf("got failures %q, want %q", got, tc.want.failures)
			}
			if tc.want.check != nil {
				tc.want.check(t, err)
			}
		})
	}
}

func isThrottle(t *testing.T, err error) {
	t.Helper()
	if !errors.As(err, new(*esm.ThrottleError)) {
		t.Errorf("got %v, want an *esm.ThrottleError", err)
	}
}

func asFunctionError(t *testing.T, err error) *lambdainvoke.FunctionError {
	t.Helper()
	var fe *lambdainvoke.FunctionError
	if !errors.As(err, &fe) {
		t.Fatalf("got %v, want a *FunctionError", err)
	}
	return fe
}

// httpStatus is what esm could read for an on-failure record: the status
// of the SDK's response error.
func httpStatus(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func ptr[T any](v T) *T { return &v }

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// TestHandlerRequest checks what the function receives: exactly Encode's
// bytes, which are json.Marshal's document in Lambda's key order, and which
// aws-lambda-go decodes back into the event; also the qualifier and the
// invocation type the server saw.
func TestHandlerRequest(t *testing.T) {
	srv := lambdainvoketest.NewServer()
	defer srv.Close()
	var got events.KinesisEvent
	rec := &recorder{f: lambdago.NewHandler(func(_ context.Context, ev events.KinesisEvent) error {
		got = ev
		return nil
	})}
	srv.AddFunction("fn", rec)
	h, err := lambdainvoke.Handler(srv.Client(), "arn:aws:lambda:us-east-1:123456789012:function:fn", lambdainvoke.Qualifier("$LATEST"))
	if err != nil {
		t.Fatal(err)
	}
	ev := batch(5)
	ev.Records[3].Kinesis.Data = []byte{0, 0xff, '"', '<'}
	if _, err := h(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	want, err := lambdainvoke.Encode(&ev)
	if err != nil {
		t.Fatal(err)
	}
	if body := rec.last(); !bytes.Equal(body, want) {
		t.Errorf("got body %s\nwant %s", body, want)
	}
	marshalled, _ := json.Marshal(ev)
	if len(rec.last()) != len(marshalled) {
		t.Errorf("got %d bytes, want %d (json.Marshal)", len(rec.last()), len(marshalled))
	}
	if len(got.Records) != len(ev.Records) {
		t.Fatalf("function got %d records, want %d", len(got.Records), len(ev.Records))
	}
	for i := range ev.Records {
		g, w := got.Records[i], ev.Records[i]
		if !bytes.Equal(g.Kinesis.Data, w.Kinesis.Data) || g.EventID != w.EventID || g.Kinesis.SequenceNumber != w.Kinesis.SequenceNumber ||
			// aws-lambda-go truncates the float it decodes: 0.001 s comes
			// back as 0.000999927 s, so compare to the millisecond.
			!g.Kinesis.ApproximateArrivalTimestamp.Round(time.Millisecond).Equal(w.Kinesis.ApproximateArrivalTimestamp.Time) {
			t.Errorf("record %d: function got %+v, want %+v", i, g, w)
		}
	}
}

// TestHandlerRecordTooLarge checks the 413 rules: a batch of one record
// is discarded at once (retry.Permanent), a larger batch is a function
// error that bisect can split, and neither is a throttle.
func TestHandlerRecordTooLarge(t *testing.T) {
	srv := lambdainvoketest.NewServer()
	defer srv.Close()
	srv.AddFunction("fn", raw(`null`))
	h, err := lambdainvoke.Handler(srv.Client(), "fn")
	if err != nil {
		t.Fatal(err)
	}
	big := batch(2)
	big.Records[0].Kinesis.Data = make([]byte, 5<<20) // 5 MiB, about 6.7 MB in base64
	tests := []struct {
		name      string
		ev        events.KinesisEvent
		permanent bool
	}{
		{"one record", events.KinesisEvent{Records: big.Records[:1]}, true},
		{"two records", big, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h(context.Background(), tc.ev)
			if !errors.As(err, new(*types.RequestTooLargeException)) {
				t.Fatalf("got %v, want a RequestTooLargeException", err)
			}
			if got := retry.IsPermanent(err); got != tc.permanent {
				t.Errorf("got permanent %v, want %v", got, tc.permanent)
			}
			if errors.As(err, new(*esm.ThrottleError)) {
				t.Errorf("got a throttle, want a function error")
			}
		})
	}
}

// TestHandlerDeadline checks that a call cut short by ctx (esm's
// FunctionTimeout) returns ctx's error itself: a function error, as a
// Lambda timeout is.
func TestHandlerDeadline(t *testing.T) {
	srv := lambdainvoketest.NewServer()
	defer srv.Close()
	started := make(chan struct{}, 1)
	srv.AddFunction("slow", lambdago.NewHandler(func(ctx context.Context, _ events.KinesisEvent) error {
		started <- struct{}{}
		<-ctx.Done() // the server's request context ends when the client goes
		return nil
	}))
	h, err := lambdainvoke.Handler(srv.Client(), "slow")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started // the request is in flight
		cancel()
	}()
	_, err = h(ctx, batch(1))
	if err != context.Canceled { //nolint:errorlint // must be ctx.Err() itself, unwrapped
		t.Errorf("got %v, want context.Canceled unwrapped", err)
	}
}

func TestHandlerInvalidArguments(t *testing.T) {
	client := lambda.New(lambda.Options{Region: "us-east-1"})
	tests := []struct {
		name   string
		client lambdainvoke.Invoker
		fn     string
		opts   []lambdainvoke.Option
	}{
		{"nil client", nil, "fn", nil},
		{"empty name", client, "", nil},
		{"name with a slash", client, "a/b", nil},
		{"name with spaces", client, "my function", nil},
		{"name too long", client, strings.Repeat("f", 171), nil},
		{"bad qualifier", client, "fn", []lambdainvoke.Option{lambdainvoke.Qualifier("v:1")}},
		{"nil encoder", client, "fn", []lambdainvoke.Option{lambdainvoke.Encoder(nil)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := lambdainvoke.Handler(tc.client, tc.fn, tc.opts...)
			if !errors.Is(err, lambdainvoke.ErrInvalidOption) || h != nil {
				t.Errorf("got %v, want ErrInvalidOption and no handler", err)
			}
		})
	}
	for _, fn := range []string{"fn", "fn:live", "fn:$LATEST", "123456789012:function:fn", "arn:aws:lambda:us-east-1:123456789012:function:fn:7", "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:my.fn_1"} {
		if _, err := lambdainvoke.Handler(client, fn); err != nil {
			t.Errorf("Handler(%q): got %v, want nil", fn, err)
		}
	}
}
