package s3destination_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/esmkit/esmkit/destination/driver"
	"github.com/esmkit/esmkit/destination/s3destination"
	"github.com/esmkit/esmkit/internal/testserver"
)

func TestNew(t *testing.T) {
	c := s3.New(s3.Options{Region: testserver.Region})
	if _, err := s3destination.New(nil, "b"); err == nil {
		t.Error("New(nil client): got nil error")
	}
	for _, bad := range []string{"", "arn:aws:s3:::"} {
		if _, err := s3destination.New(c, bad); err == nil {
			t.Errorf("New(%q): got nil error", bad)
		}
	}
}

// TestBucketARN writes through a Bucket made from the bucket's ARN, the
// form Lambda's DestinationConfig uses, and reads the object back.
func TestBucketARN(t *testing.T) {
	c := newClient(t)
	bucket := createBucket(t, c)
	b, err := s3destination.New(c, "arn:aws:s3:::"+bucket)
	if err != nil {
		t.Fatal(err)
	}
	msg := &driver.Message{Body: []byte(`{"version":"1.0"}`), Key: "aws/lambda/m/shardId-000000000000/2024/01/02/2024-01-02T03.04.05-x"}
	if err := b.Send(t.Context(), msg); err != nil {
		t.Fatalf("Send: %v", err)
	}
	out, err := c.GetObject(t.Context(), &s3.GetObjectInput{Bucket: &bucket, Key: &msg.Key})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	defer out.Body.Close()
	got, _ := io.ReadAll(out.Body)
	if string(got) != string(msg.Body) {
		t.Errorf("got %s, want %s", got, msg.Body)
	}
	if ct := out.ContentType; ct == nil || *ct != "application/json" {
		t.Errorf("got Content-Type %v, want application/json", ct)
	}
}

// cannedClient answers every call with one HTTP response.
type cannedClient struct {
	status int
	body   string
}

func (c cannedClient) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	return &http.Response{
		StatusCode: c.status, Status: http.StatusText(c.status),
		Header: http.Header{"Content-Type": {"application/xml"}},
		Body:   io.NopCloser(strings.NewReader(c.body)), ContentLength: int64(len(c.body)),
		Request: req, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
	}, nil
}

// TestErrorClassification checks IsRetryable on errors as the SDK decodes
// them from S3 responses.
func TestErrorClassification(t *testing.T) {
	tests := []struct {
		status int
		code   string
		want   bool
	}{
		{503, "SlowDown", true},
		{500, "InternalError", true},
		{503, "ServiceUnavailable", true},
		{400, "RequestTimeout", true},
		{404, "NoSuchBucket", false},
		{403, "AccessDenied", false},
		{400, "InvalidRequest", false},
	}
	for _, tc := range tests {
		t.Run(tc.code, func(t *testing.T) {
			c := newClient(t, func(o *s3.Options) {
				o.HTTPClient = cannedClient{tc.status, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>` + tc.code + `</Code><Message>m</Message><RequestId>r</RequestId></Error>`}
				o.RetryMaxAttempts = 1
			})
			b, err := s3destination.New(c, "bucket")
			if err != nil {
				t.Fatal(err)
			}
			err = b.Send(t.Context(), &driver.Message{Body: []byte("{}"), Key: "k"})
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tc.code {
				t.Fatalf("got %v, want error code %s", err, tc.code)
			}
			if got := b.IsRetryable(err); got != tc.want {
				t.Errorf("IsRetryable(%v) = %v, want %v", err, got, tc.want)
			}
		})
	}
}
