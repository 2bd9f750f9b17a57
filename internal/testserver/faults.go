package testserver

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// Fault is an error response as AWS sends it for the awsJson 1.1 protocol
// that Kinesis speaks: the HTTP status, the exception name (the body's
// __type and the x-amzn-ErrorType header) and its message.
type Fault struct {
	Status  int
	Type    string
	Message string
}

// The faults no local server produces, with AWS's wording. The SDK decodes
// the first three into *types.ProvisionedThroughputExceededException,
// *types.ExpiredIteratorException and *types.LimitExceededException; the
// last two into a smithy.APIError with that code inside an
// *awshttp.ResponseError with the status, which the SDK's retryer (and
// esm) treat as retryable.
var (
	ProvisionedThroughputExceeded = Fault{http.StatusBadRequest, "ProvisionedThroughputExceededException",
		"Rate exceeded for shard shardId-000000000000 in stream test under account 123456789012."}
	ExpiredIterator = Fault{http.StatusBadRequest, "ExpiredIteratorException",
		"Iterator expired. The iterator was created at time Mon Jan 01 00:00:00 UTC 2024 while right now it is Mon Jan 01 00:05:01 UTC 2024 which is further in the future than the tolerated delay of 300000 milliseconds."}
	LimitExceeded = Fault{http.StatusBadRequest, "LimitExceededException",
		"Rate exceeded for stream test under account 123456789012."}
	InternalFailure    = Fault{http.StatusInternalServerError, "InternalFailure", "Internal service failure."}
	ServiceUnavailable = Fault{http.StatusServiceUnavailable, "ServiceUnavailable", "Service Unavailable"}
)

// Pattern chooses which calls of an operation an injected fault answers.
// Make one with [Every] or [Script]. A Pattern is a plain value; each
// Inject keeps its own count.
type Pattern struct {
	every  int
	script string
}

// Every answers the nth call after injection and every nth after that:
// Every(3) answers calls 3, 6, 9, …; Every(1) answers all.
func Every(n int) Pattern { return Pattern{every: n} }

// Script answers calls by position: call i (from 0, after injection) gets
// the fault if script[i] is 'x' and goes to the server if it is '.';
// calls after the end of the script go to the server. Script("xx.x")
// fails calls 0, 1 and 3.
func Script(script string) Pattern { return Pattern{script: script} }

// Faults is an HTTP client for SDK clients that answers chosen calls with a
// synthetic AWS error response, without reaching the server, and passes
// every other call to the client it wraps. Because the response is real
// HTTP, the SDK decodes it into its own typed errors, exactly as if the
// server had sent it, which lets real-server tests exercise throttling,
// expired iterators and 5xx errors that no local server produces.
//
// Use it through [Faults.Option]:
//
//	f := testserver.NewFaults()
//	f.Inject("GetRecords", testserver.Every(3), testserver.ProvisionedThroughputExceeded)
//	client := testserver.KinesisClient(t, testserver.Kinesis(t), f.Option)
//
// Calls are matched by the operation name in X-Amz-Target
// ("Kinesis_20131202.GetRecords" → "GetRecords"). Configure the SDK's
// retryer (RetryMaxAttempts 1) if the faults should reach the caller
// rather than be retried inside the SDK.
//
// A Faults is safe for concurrent use; Inject may be called while calls
// are in flight.
type Faults struct {
	next interface {
		Do(*http.Request) (*http.Response, error)
	}

	mu     sync.Mutex     // guards rules and calls
	rules  []*rule        // in injection order
	calls  map[string]int // calls seen per operation
	served map[string]int // synthetic responses per operation
	reqID  atomic.Uint64  // source of request IDs
}

type rule struct {
	op    string
	p     Pattern
	fault Fault
	n     int // calls of op seen since injection
}

// NewFaults returns a Faults with nothing injected. Option sets the
// client it wraps.
func NewFaults() *Faults {
	return &Faults{calls: map[string]int{}, served: map[string]int{}}
}

// Option installs f as the client's HTTP client, wrapping the one
// configured so far (for [KinesisClient], an [HTTPClient]). Pass it to
// [KinesisClient] or kinesis.New as an option function. One Faults
// serves one client.
func (f *Faults) Option(o *kinesis.Options) {
	f.next = o.HTTPClient
	if f.next == nil {
		f.next = NewHTTPClient()
	}
	o.HTTPClient = f
}

// Inject makes the calls of operation op that p chooses answer with
// fault. When several rules choose one call, the first injected wins; each
// rule still counts the call.
func (f *Faults) Inject(op string, p Pattern, fault Fault) {
	if p.every < 1 && p.script == "" {
		panic("testserver: Inject: zero Pattern; use Every or Script")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = append(f.rules, &rule{op: op, p: p, fault: fault})
}

// Clear removes every injected fault.
func (f *Faults) Clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = nil
}

// Calls returns how many calls of op f has seen, answered or passed on.
func (f *Faults) Calls(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

// Injected returns how many calls of op f has answered with a fault.
func (f *Faults) Injected(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.served[op]
}

// Do answers req with a fault if a rule chooses it, and otherwise sends it
// on.
func (f *Faults) Do(req *http.Request) (*http.Response, error) {
	_, op, _ := strings.Cut(req.Header.Get("X-Amz-Target"), ".")
	if fault, ok := f.choose(op); ok {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return f.response(req, fault), nil
	}
	return f.next.Do(req)
}

func (f *Faults) choose(op string) (Fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[op]++
	var hit *rule
	for _, r := range f.rules {
		if r.op != op {
			continue
		}
		i := r.n
		r.n++
		fire := false
		if r.p.script != "" {
			fire = i < len(r.p.script) && r.p.script[i] == 'x'
		} else {
			fire = (i+1)%r.p.every == 0
		}
		if fire && hit == nil {
			hit = r
		}
	}
	if hit == nil {
		return Fault{}, false
	}
	f.served[op]++
	return hit.fault, true
}

// response builds the error response AWS sends: the JSON body with __type
// and message, Content-Type application/x-amz-json-1.1, x-amzn-ErrorType
// and x-amzn-RequestId.
func (f *Faults) response(req *http.Request, fault Fault) *http.Response {
	body := fmt.Sprintf(`{"__type":%s,"message":%s}`, strconv.Quote(fault.Type), strconv.Quote(fault.Message))
	n := f.reqID.Add(1)
	h := http.Header{}
	h.Set("Content-Type", "application/x-amz-json-1.1")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Amzn-Errortype", fault.Type+":")
	h.Set("X-Amzn-Requestid", fmt.Sprintf("fa017000-0000-4000-8000-%012x", n))
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", fault.Status, http.StatusText(fault.Status)),
		StatusCode:    fault.Status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}
