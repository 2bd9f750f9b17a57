package testserver

import (
	"crypto/tls"
	"io"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// Region is the region every client built here uses. The servers accept
// any region; the ARNs they return contain it.
const Region = "us-east-1"

// KinesisClient returns a Kinesis client for endpoint, with static dummy
// credentials, region [Region], the SDK's standard retryer and an
// [HTTPClient]. optFns are applied last, for example to set
// RetryMaxAttempts. The client is safe for concurrent use.
func KinesisClient(t testing.TB, endpoint string, optFns ...func(*kinesis.Options)) *kinesis.Client {
	t.Helper()
	if endpoint == "" {
		t.Fatal("testserver: KinesisClient: empty endpoint")
	}
	return kinesis.New(kinesis.Options{
		Region:       Region,
		BaseEndpoint: &endpoint,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTESTSERVER", "testserver-secret", ""),
		HTTPClient:   NewHTTPClient(),
	}, optFns...)
}

// HTTPClient is the HTTP client for SDK clients talking to the local servers.
// It satisfies every aws-sdk-go-v2 service's HTTPClient interface.
//
// It works around a client-side race in aws-sdk-go-v2 (issues #1825, #2737)
// that fast loopback servers hit often: a call fails with "deserialization
// failed … use of closed network connection". The cause, read from smithy-go
// v1.28 and net/http (Go 1.26):
//
//  1. smithy-go wraps the request body in a "safe" reader that has WriteTo,
//     and closes it as soon as client.Do returns, that is, once the response
//     headers arrive.
//  2. net/http's write loop sends a Content-Length body through
//     io.LimitReader and then drains the rest with io.Copy(io.Discard, body),
//     which calls the body's WriteTo. A closed safe reader's WriteTo returns
//     io.EOF as an error (Read would return it as a clean end).
//  3. When the body is larger than the 4 KiB write buffer, it goes straight
//     to the socket, so a fast server can answer before step 2's drain. The
//     drain then fails, and the write loop closes the connection under the
//     response that the SDK is still reading.
//
// The SDK's retryer treats the error as retryable (since PR #2949), so tests
// would pass, but each hit costs a full extra round trip and shows up as a
// retry: throughput, call counts and timing in tests would be wrong.
// Disabling keep-alives would not help, as the connection is closed in the
// middle of its own response. Hiding WriteTo removes the cause: Do wraps the
// body in a type with only Read and Close, so the drain ends cleanly.
// TestHTTPClientNoClosedConnection checks this with retries off. The SDK's
// retryer is kept, for any other transient error.
//
// The transport keeps up to 64 idle connections per host (net/http's default
// of 2 would close and redial most connections when tests call one server
// from many goroutines), never uses a proxy, and skips certificate
// verification, because kinesis-local's HTTPS port has a self-signed
// certificate. Use it only against local test servers.
type HTTPClient struct {
	client *http.Client
}

// NewHTTPClient returns an [HTTPClient] with its own connection pool.
func NewHTTPClient() *HTTPClient {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.MaxIdleConns = 256
	tr.MaxIdleConnsPerHost = 64
	tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // loopback test servers with self-signed certificates
	return &HTTPClient{client: &http.Client{Transport: tr}}
}

// Do sends req with its body stripped of WriteTo; see [HTTPClient].
func (c *HTTPClient) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		req.Body = readOnlyBody{req.Body}
	}
	return c.client.Do(req)
}

// readOnlyBody exposes only Read and Close of a request body.
type readOnlyBody struct{ rc io.ReadCloser }

func (b readOnlyBody) Read(p []byte) (int, error) { return b.rc.Read(p) }
func (b readOnlyBody) Close() error               { return b.rc.Close() }
