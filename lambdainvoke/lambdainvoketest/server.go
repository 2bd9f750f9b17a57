// Package lambdainvoketest serves Lambda's Invoke API from Go functions, for
// tests.
//
// A [Server] is a service, not a mock: like net/http/httptest's server, it
// answers real HTTP requests from a *lambda.Client as Lambda's Invoke API
// does, so code that invokes functions runs against it unchanged. A
// function is anything with aws-lambda-go's lambda.Handler method, usually
// lambda.NewHandler(fn) for the fn you would pass to lambda.Start; it gets
// the request's payload bytes and its answer is serialized as the Go
// runtime serializes it.
//
//	srv := lambdainvoketest.NewServer()
//	defer srv.Close()
//	srv.AddFunction("my-function", lambda.NewHandler(fn))
//	client := srv.Client()
//
// # What it answers
//
// POST /2015-03-31/functions/{FunctionName}/invocations with
// X-Amz-Invocation-Type RequestResponse (or none). FunctionName may be a
// name, a partial ARN or an ARN, with a qualifier there or in the Qualifier
// query parameter. The answer is 200 with X-Amz-Executed-Version ($LATEST
// without a qualifier, the qualifier if it is a version number, and 1 for
// an alias) and X-Amzn-RequestId, and the function's result as the body; a
// function that returns an error or panics gets X-Amz-Function-Error:
// Unhandled and {"errorMessage":…,"errorType":…}, and one whose result is
// 6 MB or larger gets Function.ResponseSizeTooLarge.
//
// Errors have AWS's status, X-Amzn-ErrorType header and JSON body:
// ResourceNotFoundException (404) for an unknown function,
// RequestTooLargeException (413) for a payload of 6,291,456 bytes or more,
// InvalidRequestContentException (400) for a payload that is not JSON, and
// InvalidParameterValueException (400) for other invocation types or
// conflicting qualifiers. [Server.FailNext] injects others, such as
// [TooManyRequests] and [ServiceException], before the function runs.
package lambdainvoketest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// MaxPayload is Lambda's limit on a synchronous request and response: both
// must be smaller than 6,291,456 bytes.
const MaxPayload = 6 * 1024 * 1024

// Region and AccountID appear in the ARNs the server reports.
const (
	Region    = "us-east-1"
	AccountID = "123456789012"
)

// Function is a deployed function: aws-lambda-go's lambda.Handler, which
// lambda.NewHandler returns. Invoke may be called concurrently.
type Function interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// Fault is an error the Invoke API returns instead of running the function.
type Fault struct {
	Status  int    // HTTP status, e.g. 429
	Type    string // error code, e.g. "TooManyRequestsException"
	Message string
	// Reason is the throttle reason of a TooManyRequestsException, and
	// RetryAfter its Retry-After header in seconds; both optional.
	Reason     string
	RetryAfter int
}

// TooManyRequests is Lambda's throttle, as returned when the function's
// reserved concurrency is used up (or zero).
func TooManyRequests() Fault {
	return Fault{Status: http.StatusTooManyRequests, Type: "TooManyRequestsException", Message: "Rate Exceeded.",
		Reason: "ReservedFunctionConcurrentInvocationLimitExceeded", RetryAfter: 1}
}

// ServiceException is Lambda's internal error (HTTP 500).
func ServiceException() Fault {
	return Fault{Status: http.StatusInternalServerError, Type: "ServiceException", Message: "An internal error occurred."}
}

// Server serves the Invoke API. Its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL, for lambda.Options.BaseEndpoint.
	URL string

	srv   *httptest.Server
	reqID atomic.Uint64

	mu        sync.Mutex // guards functions and faults
	functions map[string]Function
	faults    []Fault // returned in order, one per request
}

// NewServer starts a server with no functions. Call Close when done.
func NewServer() *Server {
	s := &Server{functions: map[string]Function{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close shuts the server down and waits for requests in flight.
func (s *Server) Close() { s.srv.Close() }

// AddFunction deploys f as the function name (a plain name), replacing any
// function of that name.
func (s *Server) AddFunction(name string, f Function) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.functions[name] = f
}

// FailNext makes the next n requests fail with f, after any faults already
// queued, without running a function.
func (s *Server) FailNext(n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, f)
	}
}

// Client returns a client for the server: region [Region], static
// credentials, and no SDK retries, so each call is one request and faults
// reach the caller. optFns change the options further.
func (s *Server) Client(optFns ...func(*lambda.Options)) *lambda.Client {
	return lambda.New(lambda.Options{
		Region:       Region,
		BaseEndpoint: aws.String(s.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		Retryer:      aws.NopRetryer{},
		HTTPClient:   s.srv.Client(),
	}, optFns...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	reqID := fmt.Sprintf("00000000-0000-4000-8000-%012d", s.reqID.Add(1))
	w.Header().Set("X-Amzn-RequestId", reqID)
	const prefix, suffix = "/2015-03-31/functions/", "/invocations"
	path := r.URL.EscapedPath()
	if r.Method != http.MethodPost || !strings.HasPrefix(path, prefix) || !strings.HasSuffix(path, suffix) || len(path) <= len(prefix)+len(suffix) {
		writeError(w, Fault{Status: http.StatusNotFound, Type: "UnknownOperationException", Message: "Unknown operation " + r.Method + " " + path})
		return
	}
	rawName, err := url.PathUnescape(path[len(prefix) : len(path)-len(suffix)])
	if err != nil {
		writeError(w, invalidParameter("Invalid function name: %v", err))
		return
	}
	name, qualifier, ok := parseFunctionName(rawName)
	if !ok {
		writeError(w, invalidParameter("1 validation error detected: Value '%s' at 'functionName' failed to satisfy constraint", rawName))
		return
	}
	if q := r.URL.Query().Get("Qualifier"); q != "" {
		if qualifier != "" && qualifier != q {
			writeError(w, invalidParameter("The derived qualifier from the function name does not match the specified qualifier."))
			return
		}
		qualifier = q
	}
	if t := r.Header.Get("X-Amz-Invocation-Type"); t != "" && t != "RequestResponse" {
		writeError(w, invalidParameter("lambdainvoketest supports InvocationType RequestResponse only, got %s", t))
		return
	}
	payload, err := io.ReadAll(io.LimitReader(r.Body, MaxPayload+1))
	if err != nil {
		writeError(w, ServiceException())
		return
	}
	if len(payload) >= MaxPayload {
		writeError(w, Fault{Status: http.StatusRequestEntityTooLarge, Type: "RequestTooLargeException",
			Message: fmt.Sprintf("Request must be smaller than %d bytes for the InvokeFunction operation", MaxPayload)})
		return
	}

	s.mu.Lock()
	f := s.functions[name]
	var fault *Fault
	if len(s.faults) > 0 {
		fault = &s.faults[0]
		s.faults = s.faults[1:]
	}
	s.mu.Unlock()
	switch {
	case fault != nil:
		writeError(w, *fault)
		return
	case f == nil:
		writeError(w, Fault{Status: http.StatusNotFound, Type: "ResourceNotFoundException",
			Message: "Function not found: " + functionARN(name, qualifier)})
		return
	case len(payload) > 0 && !json.Valid(payload):
		writeError(w, Fault{Status: http.StatusBadRequest, Type: "InvalidRequestContentException",
			Message: "Could not parse request body into json: Unexpected character"})
		return
	}

	version := "$LATEST"
	if qualifier != "" {
		version = qualifier
		if _, err := strconv.ParseUint(qualifier, 10, 64); err != nil && qualifier != "$LATEST" {
			version = "1" // an alias
		}
	}
	w.Header().Set("X-Amz-Executed-Version", version)
	w.Header().Set("Content-Type", "application/json")
	out, ferr := call(r.Context(), f, payload)
	if ferr == nil && len(out) >= MaxPayload {
		ferr = &errorDoc{Type: "Function.ResponseSizeTooLarge",
			Message: fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", MaxPayload)}
	}
	if ferr != nil {
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		out, _ = json.Marshal(ferr)
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out) // a write error means the client has gone
}

// errorDoc is the runtime's error document (aws-lambda-go's
// messages.InvokeResponse_Error without the stack).
type errorDoc struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

func (e *errorDoc) Error() string { return e.Type + ": " + e.Message }

// call runs f as the Go runtime does, turning an error or a panic into the
// runtime's error document.
func call(ctx context.Context, f Function, payload []byte) (out []byte, err *errorDoc) {
	defer func() {
		if v := recover(); v != nil {
			out, err = nil, &errorDoc{Message: fmt.Sprint(v), Type: typeName(v)}
		}
	}()
	out, e := f.Invoke(ctx, payload)
	if e != nil {
		return nil, &errorDoc{Message: e.Error(), Type: typeName(e)}
	}
	return out, nil
}

// typeName is aws-lambda-go's errorType: the name of the value's type,
// through one pointer.
func typeName(v any) string {
	t := reflect.TypeOf(v)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

// parseFunctionName splits a name, partial ARN or ARN into the function
// name and the qualifier it carries.
func parseFunctionName(s string) (name, qualifier string, ok bool) {
	parts := strings.Split(s, ":")
	switch {
	case parts[0] == "arn" && len(parts) >= 7 && len(parts) <= 8 && parts[2] == "lambda" && parts[5] == "function":
		parts = parts[6:]
	case len(parts) >= 3 && len(parts) <= 4 && parts[1] == "function":
		parts = parts[2:]
	case len(parts) > 2:
		return "", "", false
	}
	name = parts[0]
	if len(parts) == 2 {
		qualifier = parts[1]
		if qualifier == "" {
			return "", "", false
		}
	}
	return name, qualifier, name != ""
}

func functionARN(name, qualifier string) string {
	arn := "arn:aws:lambda:" + Region + ":" + AccountID + ":function:" + name
	if qualifier != "" {
		arn += ":" + qualifier
	}
	return arn
}

func invalidParameter(format string, args ...any) Fault {
	return Fault{Status: http.StatusBadRequest, Type: "InvalidParameterValueException", Message: fmt.Sprintf(format, args...)}
}

// writeError writes f as Lambda does: the error code in X-Amzn-ErrorType
// and a JSON body with Type ("User" for 4xx, "Service" for 5xx) and
// message.
func writeError(w http.ResponseWriter, f Fault) {
	body := map[string]string{"Type": "User", "message": f.Message}
	if f.Status >= 500 {
		body["Type"] = "Service"
	}
	if f.Reason != "" {
		body["Reason"] = f.Reason
	}
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
	}
	w.Header().Set("X-Amzn-ErrorType", f.Type)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.Status)
	b, _ := json.Marshal(body)
	_, _ = w.Write(b) // a write error means the client has gone
}
