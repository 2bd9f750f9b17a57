package s3destination_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/esmkit/esmkit/destination/destinationtest"
	"github.com/esmkit/esmkit/destination/driver"
	"github.com/esmkit/esmkit/destination/s3destination"
	"github.com/esmkit/esmkit/internal/testserver"
)

func TestMain(m *testing.M) { os.Exit(testserver.Main(m)) }

// newClient returns an S3 client for the local fauxqs server, with
// path-style addressing (bucket names are not resolvable host names here).
func newClient(t *testing.T, optFns ...func(*s3.Options)) *s3.Client {
	t.Helper()
	endpoint := testserver.S3(t)
	return s3.New(s3.Options{
		Region:       testserver.Region,
		BaseEndpoint: &endpoint,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTESTSERVER", "testserver-secret", ""),
		HTTPClient:   testserver.NewHTTPClient(),
		UsePathStyle: true,
	}, optFns...)
}

// createBucket makes a bucket with a name no other test uses.
func createBucket(t *testing.T, c *s3.Client) string {
	t.Helper()
	name := fmt.Sprintf("destinationtest-%016x", rand.Uint64())
	if _, err := c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: &name}); err != nil {
		t.Fatalf("CreateBucket %s: %v", name, err)
	}
	return name
}

// harness writes to one fresh bucket and reads back every object in it.
type harness struct {
	client *s3.Client
	bucket string
	seen   map[string]bool // keys returned by Received; Received is not called concurrently
}

func (h *harness) MakeDestination(context.Context) (driver.Destination, error) {
	return s3destination.New(h.client, h.bucket)
}

func (h *harness) MakeMissingDestination(context.Context) (driver.Destination, error) {
	return s3destination.New(h.client, "missing-"+h.bucket)
}

func (h *harness) Received(ctx context.Context, n int) ([]driver.Message, error) {
	got, err := list(ctx, h.client, h.bucket, h.seen)
	for len(got) < n && err == nil && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
		var more []driver.Message
		more, err = list(ctx, h.client, h.bucket, h.seen)
		got = append(got, more...)
	}
	return got, err
}

// list returns the objects of bucket whose keys are not in seen, adding
// them to seen. It uses a context that is not canceled, so an object is
// never half-read; ctx only bounds the caller's loop.
func list(ctx context.Context, c *s3.Client, bucket string, seen map[string]bool) ([]driver.Message, error) {
	callCtx := context.WithoutCancel(ctx)
	var got []driver.Message
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: &bucket})
	for p.HasMorePages() {
		page, err := p.NextPage(callCtx)
		if err != nil {
			return got, fmt.Errorf("ListObjectsV2: %w", err)
		}
		for _, o := range page.Contents {
			if seen[*o.Key] {
				continue
			}
			out, err := c.GetObject(callCtx, &s3.GetObjectInput{Bucket: &bucket, Key: o.Key})
			if err != nil {
				return got, fmt.Errorf("GetObject %s: %w", *o.Key, err)
			}
			body, err := io.ReadAll(out.Body)
			out.Body.Close()
			if err != nil {
				return got, fmt.Errorf("GetObject %s: %w", *o.Key, err)
			}
			seen[*o.Key] = true
			got = append(got, driver.Message{Body: body, Key: *o.Key})
		}
	}
	return got, nil
}

func (*harness) ReportsKeys() bool { return true }
func (*harness) Close()            {}

func TestConformance(t *testing.T) {
	destinationtest.Run(t, func(_ context.Context, t *testing.T) (destinationtest.Harness, error) {
		c := newClient(t)
		return &harness{client: c, bucket: createBucket(t, c), seen: map[string]bool{}}, nil
	})
}
