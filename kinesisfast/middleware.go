package kinesisfast

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/smithy-go/middleware"
	"github.com/aws/smithy-go/tracing"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// ID is the middleware ID of the decoder in the Deserialize step. It
// replaces the SDK's "OperationDeserializer" of GetRecords, which it keeps
// and calls for everything it does not decode itself.
const ID = "kinesisfast.GetRecordsDecoder"

// operationDeserializer is the ID of the SDK's deserializer (aws-sdk-go-v2
// service/kinesis api_client.go).
const operationDeserializer = "OperationDeserializer"

// ErrNoDeserializer is returned, through the failed call, when the stack of
// GetRecords has no "OperationDeserializer" to replace, which would mean
// the SDK changed how it builds stacks.
var ErrNoDeserializer = errors.New("kinesisfast: GetRecords stack has no OperationDeserializer")

// WithDecoder returns a kinesis client option that installs the decoder:
//
//	client := kinesis.NewFromConfig(cfg, kinesisfast.WithDecoder())
//
// It may also be passed to a single GetRecords call.
func WithDecoder() func(*kinesis.Options) {
	return kinesis.WithAPIOptions(AddDecoder)
}

// AddDecoder is an APIOptions function (see [kinesis.WithAPIOptions]) that
// makes GetRecords decode successful responses with this package. It
// leaves every other operation's stack unchanged, and installing it twice
// is harmless.
//
// Only the Deserialize step changes: endpoints, credentials, signing,
// retries, logging and interceptors stay the SDK's. The SDK's deserializer
// stays in charge of error responses (any status outside 2xx), transport
// errors, and any body the fast decoder does not handle, so errors are the
// SDK's own types and strings. Two differences remain: the
// client.call.deserialization_duration metric is not recorded for
// responses decoded here (its timer is internal to the SDK), and the
// records of one page share memory; see the package documentation.
func AddDecoder(stack *middleware.Stack) error {
	if stack.ID() != "GetRecords" {
		return nil
	}
	if _, ok := stack.Deserialize.Get(ID); ok {
		return nil
	}
	m := &decoder{}
	sdk, err := stack.Deserialize.Swap(operationDeserializer, m)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNoDeserializer, err)
	}
	m.sdk = sdk
	return nil
}

// AddDecoderIfAvailable is [AddDecoder], except that a GetRecords stack
// without the SDK's "OperationDeserializer" (which would mean the SDK
// changed how it builds stacks) is left unchanged, so that the SDK's
// decoder runs instead of the call failing with [ErrNoDeserializer]. esm
// installs the decoder this way.
func AddDecoderIfAvailable(stack *middleware.Stack) error {
	if stack.ID() != "GetRecords" {
		return nil
	}
	if _, ok := stack.Deserialize.Get(operationDeserializer); !ok {
		return nil // the SDK's own stack, or the decoder is installed already
	}
	return AddDecoder(stack)
}

// decoder is the Deserialize middleware. One is made per call.
type decoder struct {
	sdk middleware.DeserializeMiddleware
}

func (*decoder) ID() string { return ID }

func (m *decoder) HandleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (
	middleware.DeserializeOutput, middleware.Metadata, error,
) {
	ev := eventPageFrom(ctx)
	if ev != nil {
		ev.clear()
	}
	out, md, err := next.HandleDeserialize(ctx, in)
	resp, ok := out.RawResponse.(*smithyhttp.Response)
	if err != nil || !ok || resp.StatusCode < 200 || resp.StatusCode >= 300 || resp.Body == nil {
		return m.delegate(ctx, in, out, md, err, ev)
	}

	_, span := tracing.StartSpan(ctx, "OperationDeserializer")
	defer span.End()

	// Bound the bodies held at once: decoding is CPU work, and more
	// decodes than cores at a time only cost memory.
	select {
	case decodeSlots <- struct{}{}:
		defer func() { <-decodeSlots }()
	case <-ctx.Done():
		return m.delegate(ctx, in, out, md, nil, ev)
	}
	st := getState()
	defer putState(st)
	body := resp.Body
	defer smithyhttp.CloseResponseBody(ctx, resp, false, nil) // drains and closes body, for reuse
	st.buf, err = readBody(st.buf[:0], body, resp.ContentLength)
	if err != nil {
		// Let the SDK read the same bytes and meet the same error.
		resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(st.buf), errReader{err}))
		defer func() { resp.Body = body }()
		return m.delegate(ctx, in, out, md, nil, ev)
	}
	st.tape.reset(st.buf)
	if st.tape.parse() {
		if res, ok := st.tape.build(ev); ok {
			out.Result = res
			return out, md, nil
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(st.buf))
	defer func() { resp.Body = body }()
	return m.delegate(ctx, in, out, md, nil, ev)
}

// delegate runs the SDK's deserializer on the response that next already
// returned, and fills ev from its result.
func (m *decoder) delegate(ctx context.Context, in middleware.DeserializeInput,
	out middleware.DeserializeOutput, md middleware.Metadata, err error, ev *EventPage,
) (middleware.DeserializeOutput, middleware.Metadata, error) {
	replay := middleware.DeserializeHandlerFunc(func(context.Context, middleware.DeserializeInput) (
		middleware.DeserializeOutput, middleware.Metadata, error,
	) {
		return out, md, err
	})
	out, md, err = m.sdk.HandleDeserialize(ctx, in, replay)
	if ev != nil && err == nil {
		if res, ok := out.Result.(*kinesis.GetRecordsOutput); ok {
			ev.fill(res.Records)
		}
	}
	return out, md, err
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// decodeSlots holds one token per response being read and decoded.
var decodeSlots = make(chan struct{}, max(8, 4*runtime.GOMAXPROCS(0)))

// maxPooled is the largest buffer kept for reuse. A GetRecords response
// holds at most 10 MiB of data, about 14 MB as JSON.
const maxPooled = 16 << 20

// state is the pooled memory of one decode: the body and pass 1's tape.
type state struct {
	buf  []byte
	tape tape
}

var statePool = sync.Pool{New: func() any { return new(state) }}

func getState() *state { return statePool.Get().(*state) }

func putState(st *state) {
	if cap(st.buf) > maxPooled || cap(st.tape.scratch) > maxPooled || cap(st.tape.recs) > 2*10000 {
		return
	}
	st.tape.reset(nil)
	statePool.Put(st)
}

// readBody appends all of r to buf, growing it once to n+1 bytes when the
// length n is known (the extra byte lets the final Read see EOF without
// growing again).
func readBody(buf []byte, r io.Reader, n int64) ([]byte, error) {
	if n >= 0 && n < 1<<31 && int64(cap(buf)) < n+1 {
		buf = make([]byte, 0, n+1)
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		m, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}
