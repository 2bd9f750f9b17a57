package lambdainvoke

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/esmkit/esmkit/esm"
	"github.com/esmkit/esmkit/retry"
)

// ErrInvalidOption is wrapped by the errors [Handler] returns for a bad
// argument or option.
var ErrInvalidOption = errors.New("lambdainvoke: invalid option")

// Invoker is the method of *lambda.Client that the handler calls.
type Invoker interface {
	Invoke(ctx context.Context, params *lambda.InvokeInput, optFns ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

var _ Invoker = (*lambda.Client)(nil)

// Option configures [Handler].
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	qualifier string
	encode    func(*events.KinesisEvent) ([]byte, error)
	log       *slog.Logger
}

func defaultConfig() config {
	return config{encode: Encode}
}

// Qualifier sets the version or alias to invoke (Lambda's Qualifier, the
// qualifier of the mapping's FunctionName). Default: none, which invokes
// $LATEST unless functionName itself ends with one.
func Qualifier(q string) Option { return optionFunc(func(c *config) { c.qualifier = q }) }

// Encoder replaces [Encode], which writes the event in Lambda's key order.
// f is called concurrently for different shards. Passing a wrapper of
// json.Marshal sends aws-lambda-go's key order instead. An encoder that
// writes more bytes than json.Marshal does may exceed the 6 MB limit that
// esm's batcher enforces.
func Encoder(f func(*events.KinesisEvent) ([]byte, error)) Option {
	return optionFunc(func(c *config) { c.encode = f })
}

// Logger sets where the handler logs invalid partial responses (at Warn,
// with the reason, which the handler's result cannot carry). Default: no
// logging.
func Logger(l *slog.Logger) Option { return optionFunc(func(c *config) { c.log = l }) }

// functionName is Lambda's pattern for FunctionName of Invoke: a name,
// partial ARN or ARN, optionally with a qualifier.
var functionName = regexp.MustCompile(`^(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?$`)

// qualifierPattern is Lambda's pattern for a version or alias.
var qualifierPattern = regexp.MustCompile(`^(|[a-zA-Z0-9$_-]+)$`)

// Handler returns an [esm.Handler] that invokes the function functionName
// (a name, partial ARN or ARN, as Invoke accepts it) through client, once
// per batch, with InvocationType RequestResponse. The package
// documentation tells how each answer becomes the handler's result.
//
// Handler checks its arguments and returns an error wrapping
// [ErrInvalidOption] for a nil client, or a function name or qualifier
// that Lambda would refuse. The returned handler is safe for concurrent use
// and holds no resources; the call's deadline is ctx's, which esm sets from
// [esm.FunctionTimeout].
func Handler(client Invoker, functionName string, opts ...Option) (esm.Handler, error) {
	c := defaultConfig()
	for _, o := range opts {
		o.apply(&c)
	}
	if err := c.validate(client, functionName); err != nil {
		return nil, err
	}
	h := &handler{client: client, name: functionName, cfg: c}
	return h.handle, nil
}

func (c *config) validate(client Invoker, name string) error {
	switch {
	case client == nil:
		return fmt.Errorf("%w: nil Invoker", ErrInvalidOption)
	case len(name) == 0 || len(name) > 170 || !functionName.MatchString(name):
		return fmt.Errorf("%w: FunctionName %q is not a function name, partial ARN or ARN of at most 170 characters", ErrInvalidOption, name)
	case len(c.qualifier) > 128 || !qualifierPattern.MatchString(c.qualifier):
		return fmt.Errorf("%w: Qualifier %q is not a version or alias of at most 128 characters", ErrInvalidOption, c.qualifier)
	case c.encode == nil:
		return fmt.Errorf("%w: nil Encoder", ErrInvalidOption)
	}
	return nil
}

type handler struct {
	client Invoker
	name   string
	cfg    config
}

// invalidResponse is the typed stand-in for a partial response Lambda would
// reject: esm's retry rules fail the whole batch on an empty identifier.
func invalidResponse() events.KinesisEventResponse {
	return events.KinesisEventResponse{BatchItemFailures: []events.KinesisBatchItemFailure{{ItemIdentifier: ""}}}
}

func (h *handler) handle(ctx context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
	payload, err := h.cfg.encode(&ev)
	if err != nil {
		// Not Lambda's case: only a custom Encoder can fail. A function
		// error lets bisect isolate the record it fails on.
		return events.KinesisEventResponse{}, fmt.Errorf("lambdainvoke: encode event: %w", err)
	}
	in := &lambda.InvokeInput{
		FunctionName:   aws.String(h.name),
		InvocationType: types.InvocationTypeRequestResponse,
		Payload:        payload,
	}
	if h.cfg.qualifier != "" {
		in.Qualifier = aws.String(h.cfg.qualifier)
	}
	out, err := h.client.Invoke(ctx, in)
	if err != nil {
		return events.KinesisEventResponse{}, h.invokeError(ctx, len(ev.Records), err)
	}
	if out.FunctionError != nil {
		return events.KinesisEventResponse{}, &FunctionError{
			FunctionName:    h.name,
			Type:            *out.FunctionError,
			Payload:         out.Payload,
			StatusCode:      int(out.StatusCode),
			ExecutedVersion: aws.ToString(out.ExecutedVersion),
			RequestID:       requestID(out),
		}
	}
	resp, err := retry.ParseResponse(out.Payload)
	if err != nil {
		if h.cfg.log != nil {
			h.cfg.log.LogAttrs(ctx, slog.LevelWarn, "lambdainvoke.invalid_response",
				slog.String("function", h.name), slog.String("request_id", requestID(out)),
				slog.String("error", err.Error()))
		}
		return invalidResponse(), nil
	}
	return resp, nil
}

// invokeError classifies an error from Invoke, which never reached the
// function (or whose answer was lost).
func (h *handler) invokeError(ctx context.Context, n int, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		// The function timeout or shutdown: the function may have run, as
		// after a Lambda timeout, so this is a function error. Context
		// errors are returned unwrapped.
		return ctxErr
	}
	var tooLarge *types.RequestTooLargeException
	if errors.As(err, &tooLarge) {
		// esm's batcher keeps a batch under the limit, so only a record
		// too large on its own gets here. Retrying cannot help: discard it
		// (spec §5.2.4). A larger batch fails as a function error, which
		// bisect can split.
		if n == 1 {
			return retry.Permanent(err)
		}
		return err
	}
	// Everything else never reached the function: throttles (429) and
	// service or request errors (5xx, permission denied, function not
	// found, VPC and KMS errors, network failures). Lambda retries them
	// all without using up attempts until the records expire (spec §7,
	// classes 5 and 6); esm's ThrottleError has exactly these rules.
	return &esm.ThrottleError{Err: err}
}

func requestID(out *lambda.InvokeOutput) string {
	id, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
	return id
}

// FunctionError is the handler's error when the function ran and failed:
// the Invoke API answered 200 with an X-Amz-Function-Error header (an
// exception, a runtime crash, a timeout, running out of memory). esm counts
// it as a function error: it uses up a retry attempt and may bisect.
type FunctionError struct {
	FunctionName string
	// Type is the X-Amz-Function-Error header: "Unhandled", or "Handled".
	Type string
	// Payload is the function's error document, such as
	// {"errorMessage":"…","errorType":"…"}.
	Payload []byte
	// StatusCode, ExecutedVersion and RequestID describe the invocation, as
	// Lambda's on-failure record does: the HTTP status (200), the version
	// that ran (X-Amz-Executed-Version) and the request ID.
	StatusCode      int
	ExecutedVersion string
	RequestID       string
}

func (e *FunctionError) Error() string {
	var doc struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}
	if json.Unmarshal(e.Payload, &doc) == nil && (doc.Message != "" || doc.Type != "") {
		return fmt.Sprintf("lambdainvoke: %s: function error (%s): %s: %s", e.FunctionName, e.Type, doc.Type, doc.Message)
	}
	const max = 256
	p := e.Payload
	if len(p) > max {
		p = p[:max]
	}
	return fmt.Sprintf("lambdainvoke: %s: function error (%s): %s", e.FunctionName, e.Type, p)
}
