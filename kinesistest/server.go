package kinesistest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// Server is a Kinesis endpoint on a loopback port, like an
// httptest.Server: a real *kinesis.Client, or a Kinesis library in another
// language or process, pointed at URL reads and writes the streams of the
// Client the Server was made with. See NewHandler for what it serves.
//
// Set the SDK client's BaseEndpoint to URL, its Region to any region and
// its Credentials to any static credentials; the Server checks no
// signature. With aws-sdk-go-v2, give the client an HTTP client whose
// request bodies have no WriteTo method, or large puts will now and then
// fail with "use of closed network connection" and be retried: that is a
// client-side race (aws/aws-sdk-go-v2 #1825, #2737) that a fast loopback
// server makes frequent.
//
// A Server is safe for concurrent use. Close it when done.
type Server struct {
	// URL is the endpoint, "http://127.0.0.1:port" with no trailing slash.
	URL string

	srv  *http.Server
	done chan struct{} // closed when srv.Serve has returned

	// mu guards closed. A handler registers in active under mu only while
	// closed is false, so no Add races with Close's Wait.
	mu        sync.Mutex
	closed    bool
	active    sync.WaitGroup // handlers running
	closeOnce sync.Once
}

// NewServer starts serving c on a free port of 127.0.0.1 (or of ::1 when
// there is no IPv4 loopback) and returns at once; the server runs in one
// goroutine per connection until Close. Like httptest.NewServer, it panics
// if it cannot listen, as nothing sensible can follow in a test.
func NewServer(c *Client) *Server {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		if ln, err = net.Listen("tcp6", "[::1]:0"); err != nil {
			panic(fmt.Sprintf("kinesistest: NewServer: listen on a loopback port: %v", err))
		}
	}
	s := &Server{URL: "http://" + ln.Addr().String(), done: make(chan struct{})}
	h := NewHandler(c)
	s.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !s.enter() {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			defer s.active.Done()
			h.ServeHTTP(w, r)
		}),
		ErrorLog: log.New(io.Discard, "", 0), // no output by default
	}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln) // returns http.ErrServerClosed after Close
	}()
	return s
}

// enter registers a request in s.active unless s is closed.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.active.Add(1)
	return true
}

// Close stops the server: it closes the listener and every connection,
// waits for running requests to finish (each finishes quickly, as writes
// to a closed connection fail) and returns. Requests still arriving are
// refused. Close is idempotent and safe for concurrent use; the Client
// stays usable.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		// 1. Refuse new requests first, so that no handler joins s.active
		//    after Wait below has started.
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		// 2. Close the listener and all connections: Serve returns, and a
		//    handler writing to a slow reader fails instead of blocking.
		_ = s.srv.Close()
		<-s.done
		// 3. Join the handlers still running, so none touches the Client
		//    after Close returns.
		s.active.Wait()
	})
}

const (
	targetPrefix    = "Kinesis_20131202."
	contentTypeJSON = "application/x-amz-json-1.1"
	// maxRequestBody bounds a request body: a PutRecord of one 10 MiB
	// record is 14 MiB of base64.
	maxRequestBody = 32 << 20
)

// NewHandler returns an http.Handler that serves c over Kinesis's JSON 1.1
// protocol, for mounting on a server of one's own (TLS, another address,
// HTTP/2). NewServer uses it.
//
// Requests are POSTs to any path with header X-Amz-Target
// "Kinesis_20131202.<Operation>" and a JSON body, as the AWS API reference
// defines them: Data in base64, timestamps as epoch seconds. It serves
//
//	CreateStream  DeleteStream  DescribeStream  DescribeStreamSummary
//	ListShards  ListStreams  PutRecord  PutRecords  GetShardIterator
//	GetRecords  SplitShard  MergeShards  UpdateMaxRecordSize
//
// by calling the Client's method of that name, so calls count in
// [Client.Calls], faults injected with [Client.Inject] fire, and the
// Client's Clock rules. ListStreams is served only here: Calls and Inject
// do not know it.
//
// Errors are encoded as AWS encodes them, so SDKs decode them into their
// own types: status 400 (500 for server faults such as InternalFailure),
// header x-amzn-ErrorType and body {"__type": code, "message": text}. A
// malformed body gives SerializationException, an unknown operation
// UnknownOperationException. Signatures are not checked. CBOR (the
// default of the AWS SDKs for Java) is not spoken: disable it in the
// client (aws.cborEnabled=false, AWS_CBOR_DISABLE=1).
//
// The handler is safe for concurrent use.
func NewHandler(c *Client) http.Handler {
	return &handler{c: c}
}

type handler struct {
	c    *Client
	bufs sync.Pool // *[]byte, for request and response bodies
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, _ := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	op := serverOps[name]
	switch {
	case r.Method != http.MethodPost || op == nil:
		h.writeError(w, protocolError(http.StatusBadRequest, "UnknownOperationException",
			fmt.Sprintf("Operation %q (X-Amz-Target %q, method %s) is not served by kinesistest.",
				name, r.Header.Get("X-Amz-Target"), r.Method)))
		return
	case strings.Contains(r.Header.Get("Content-Type"), "cbor"):
		h.writeError(w, protocolError(http.StatusBadRequest, "SerializationException",
			"kinesistest speaks JSON, not CBOR: disable CBOR in the client (aws.cborEnabled=false, AWS_CBOR_DISABLE=1)."))
		return
	}

	in := h.getBuf()
	defer h.putBuf(in)
	body, err := readBody(*in, r)
	if cap(body) > cap(*in) {
		*in = body[:0] // keep the growth for the next request
	}
	if err != nil {
		h.writeError(w, err)
		return
	}
	out := h.getBuf()
	defer h.putBuf(out)
	resp, err := op(r.Context(), h.c, body, (*out)[:0])
	if cap(resp) > cap(*out) {
		*out = resp[:0]
	}
	if err != nil {
		h.writeError(w, err)
		return
	}
	hdr := w.Header()
	hdr["Content-Type"] = []string{contentTypeJSON}
	hdr["Content-Length"] = []string{strconv.Itoa(len(resp))}
	hdr["X-Amzn-Requestid"] = []string{h.c.requestID()}
	_, _ = w.Write(resp) // the client's problem if it went away
}

func (h *handler) getBuf() *[]byte {
	if b, ok := h.bufs.Get().(*[]byte); ok {
		return b
	}
	return new([]byte)
}

func (h *handler) putBuf(b *[]byte) { h.bufs.Put(b) }

// readBody reads r's body into buf, growing it, up to maxRequestBody.
func readBody(buf []byte, r *http.Request) ([]byte, error) {
	if r.ContentLength > maxRequestBody {
		return nil, tooLarge()
	}
	if r.ContentLength > 0 {
		buf = buf[:0]
		if int64(cap(buf)) < r.ContentLength {
			buf = make([]byte, 0, r.ContentLength)
		}
		buf = buf[:r.ContentLength]
		if _, err := io.ReadFull(r.Body, buf); err != nil {
			return buf[:0], protocolError(http.StatusBadRequest, "SerializationException", "Reading the request body: "+err.Error())
		}
		return buf, nil
	}
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if len(buf) > maxRequestBody {
			return buf[:0], tooLarge()
		}
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf[:0], protocolError(http.StatusBadRequest, "SerializationException", "Reading the request body: "+err.Error())
		}
	}
}

func tooLarge() error {
	return protocolError(http.StatusRequestEntityTooLarge, "SerializationException",
		fmt.Sprintf("Request body exceeds %d bytes.", maxRequestBody))
}

// protocolError is an error of the HTTP layer, before the Client is called.
func protocolError(status int, code, msg string) error {
	return newResponseError(status, "", &smithy.GenericAPIError{Code: code, Message: msg})
}

// writeError writes err as AWS's JSON protocols do: the status of its
// *awshttp.ResponseError (Client errors carry one), else 500 for server
// faults and 400 for the rest; the code in the x-amzn-ErrorType header and
// the body's __type; the message in the body's message, the member name
// Kinesis's exceptions use. An error that is not an API error, such as a
// plain error given to Inject or a cancelled context, is an InternalFailure.
func (h *handler) writeError(w http.ResponseWriter, err error) {
	status := 0
	reqID := ""
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) {
		status = respErr.HTTPStatusCode()
		reqID = respErr.ServiceRequestID()
	}
	code, msg := "InternalFailure", err.Error()
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code, msg = apiErr.ErrorCode(), apiErr.ErrorMessage()
		if status == 0 && apiErr.ErrorFault() != smithy.FaultServer {
			status = http.StatusBadRequest
		}
	}
	if status == 0 {
		status = http.StatusInternalServerError
	}
	if reqID == "" {
		reqID = h.c.requestID()
	}
	b := append(make([]byte, 0, 64+len(code)+len(msg)), `{"__type":`...)
	b = appendString(b, code)
	b = append(b, `,"message":`...)
	b = appendString(b, msg)
	b = append(b, '}')
	hdr := w.Header()
	hdr["Content-Type"] = []string{contentTypeJSON}
	hdr["Content-Length"] = []string{strconv.Itoa(len(b))}
	hdr["X-Amzn-Requestid"] = []string{reqID}
	hdr["X-Amzn-Errortype"] = []string{code}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// serverOp decodes a request body, calls the Client and appends the
// response body to buf.
type serverOp func(ctx context.Context, c *Client, body, buf []byte) ([]byte, error)
