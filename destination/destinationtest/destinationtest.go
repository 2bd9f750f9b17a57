// Package destinationtest is the conformance suite every destination driver passes.
//
// A driver's conformance_test.go implements a [Harness] over a real backend
// (a local server for the AWS drivers) and calls [Run]:
//
//	func TestConformance(t *testing.T) {
//		destinationtest.Run(t, newHarness)
//	}
//
// The suite sends records through the driver, and through a
// destination.Destination over it, then reads back what arrived with the
// harness. It checks that each delivery arrives exactly once and byte for
// byte (and, for S3-style drivers, under the key it was sent with), that
// concurrent sends all arrive, that a done context fails a send without
// delivering, and that a destination that does not exist fails with an
// error that is not retryable.
package destinationtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/esmkit/esmkit/destination"
	"github.com/esmkit/esmkit/destination/driver"
)

// Harness gives the suite access to a driver's backend.
type Harness interface {
	// MakeDestination returns a driver that delivers to the harness's
	// queue, topic or bucket, which Received reads. The suite closes it.
	MakeDestination(ctx context.Context) (driver.Destination, error)

	// MakeMissingDestination returns a driver like MakeDestination's, but
	// for a queue, topic or bucket that does not exist, so that every Send
	// fails with an error that is not retryable.
	MakeMissingDestination(ctx context.Context) (driver.Destination, error)

	// Received waits until at least n messages not returned before have
	// arrived, or until ctx is done, and returns every message that has
	// arrived and was not returned before (possibly more than n, or fewer
	// if ctx ended the wait; ctx ending the wait is not an error). Each
	// message is returned once: Received consumes what it returns.
	//
	// Body is what a consumer reads: the SQS message body, the SNS message
	// as delivered raw to a subscribed queue, the S3 object's content.
	// Key is the object key for S3-style drivers (see ReportsKeys).
	Received(ctx context.Context, n int) ([]driver.Message, error)

	// ReportsKeys reports whether Received sets Key to the key a
	// driver.MetadataWithPayload driver was given. When false, the suite
	// does not compare keys.
	ReportsKeys() bool

	// Close releases the harness's resources, after the drivers it made
	// are closed.
	Close()
}

// HarnessMaker makes a Harness over a fresh, empty queue, topic or bucket.
// Run calls it once per test and calls Harness.Close when the test ends.
// The tests run in parallel, so HarnessMaker may be called concurrently.
type HarnessMaker func(ctx context.Context, t *testing.T) (Harness, error)

// Timeouts for reading back. arrivalTimeout bounds the wait for messages
// that must arrive; settle is how long the suite waits to be sure that no
// more arrive (a duplicate, or a send that should not have happened).
const (
	arrivalTimeout = 20 * time.Second
	settle         = 500 * time.Millisecond
)

// Run runs the conformance suite against the driver newHarness makes.
func Run(t *testing.T, newHarness HarnessMaker) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"Driver/Format", testDriverFormat},
		{"Driver/ArrivesOnce", testDriverArrivesOnce},
		{"Driver/ConcurrentSends", testDriverConcurrentSends},
		{"Driver/LargeMessage", testDriverLargeMessage},
		{"Driver/CanceledContext", testDriverCanceledContext},
		{"Driver/MissingDestination", testDriverMissingDestination},
		{"Destination/Document", testDestinationDocument},
		{"Destination/ZeroTimestamp", testDestinationZeroTimestamp},
		{"Destination/ConcurrentSends", testDestinationConcurrentSends},
		{"Destination/CanceledContext", testDestinationCanceledContext},
		{"Destination/SendError", testDestinationSendError},
		{"Destination/Close", testDestinationClose},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Each test has its own queue, topic or bucket, and most of
			// the time is spent waiting to see that nothing more arrives.
			t.Parallel()
			h, err := newHarness(t.Context(), t)
			if err != nil {
				t.Fatalf("making harness: %v", err)
			}
			defer h.Close()
			tc.fn(t, h)
		})
	}
}

// keyPattern matches Lambda's S3 object key; groups: mapping UUID, shard
// ID, then the date folders and time part, which must agree.
var keyPattern = regexp.MustCompile(`^aws/lambda/([^/]+)/([^/]+)/(\d{4})/(\d{2})/(\d{2})/(\d{4})-(\d{2})-(\d{2})T(\d{2})\.(\d{2})\.(\d{2})-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

var (
	baseTime = time.Date(2024, 2, 3, 4, 5, 6, 789_000_000, time.UTC)
	stream   = "arn:aws:kinesis:us-east-1:123456789012:stream/destinationtest"
)

// seq returns a 56-digit sequence number, as Kinesis makes, that sorts as n.
func seq(n int) string { return fmt.Sprintf("4960%052d", n) }

// invocation returns a valid Invocation for a batch of size records of
// shard i, with payload data of dataSize bytes per record. Times have
// millisecond precision, so the documents round-trip exactly.
func invocation(i, size, dataSize int) *destination.Invocation {
	shard := fmt.Sprintf("shardId-%012d", i)
	first := 100 * i
	arrival := baseTime.Add(time.Duration(i) * time.Minute)
	ev := events.KinesisEvent{Records: make([]events.KinesisEventRecord, size)}
	for k := range ev.Records {
		data := bytes.Repeat([]byte{byte('a' + k%26)}, dataSize)
		ev.Records[k] = events.KinesisEventRecord{
			AwsRegion:         "us-east-1",
			EventID:           shard + ":" + seq(first+k),
			EventName:         "aws:kinesis:record",
			EventSource:       "aws:kinesis",
			EventSourceArn:    stream,
			EventVersion:      "1.0",
			InvokeIdentityArn: "arn:aws:iam::123456789012:role/lambda-role",
			Kinesis: events.KinesisRecord{
				ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: arrival.Add(time.Duration(k) * time.Millisecond)},
				Data:                        data,
				PartitionKey:                fmt.Sprintf("key<&>%d", k),
				SequenceNumber:              seq(first + k),
				KinesisSchemaVersion:        "1.0",
			},
		}
	}
	return &destination.Invocation{
		RequestID:                       fmt.Sprintf("c9b8fa9f-5a7f-4e2a-af9c-%012d", i),
		FunctionARN:                     "arn:aws:lambda:us-east-1:123456789012:function:destinationtest:live",
		Condition:                       destination.RetryAttemptsExhausted,
		ApproximateInvokeCount:          3,
		StatusCode:                      200,
		ExecutedVersion:                 "7",
		FunctionError:                   "Unhandled",
		Timestamp:                       arrival.Add(time.Hour),
		ShardID:                         shard,
		StartSequenceNumber:             seq(first),
		EndSequenceNumber:               seq(first + size - 1),
		ApproximateArrivalOfFirstRecord: arrival,
		ApproximateArrivalOfLastRecord:  arrival.Add(time.Duration(size-1) * time.Millisecond),
		BatchSize:                       size,
		StreamARN:                       stream,
		MappingUUID:                     "a1b2c3d4-0000-4000-8000-00000000000f",
		Event:                           ev,
	}
}

// message returns the driver.Message the portable type would make for inv
// (with a fixed random part in the key).
func message(t *testing.T, d driver.Destination, inv *destination.Invocation) *driver.Message {
	t.Helper()
	if d.Format() == driver.Metadata {
		body, err := destination.MarshalRecord(inv)
		if err != nil {
			t.Fatalf("MarshalRecord: %v", err)
		}
		return &driver.Message{Body: body}
	}
	body, err := destination.MarshalObject(inv)
	if err != nil {
		t.Fatalf("MarshalObject: %v", err)
	}
	ts := inv.Timestamp.UTC()
	key := fmt.Sprintf("aws/lambda/%s/%s/%s-%08x-0000-4000-8000-%012x", inv.MappingUUID, inv.ShardID,
		ts.Format("2006/01/02/2006-01-02T15.04.05"), rand.Uint32(), rand.Uint64()&(1<<48-1))
	return &driver.Message{Body: body, Key: key}
}

func makeDriver(t *testing.T, h Harness) driver.Destination {
	t.Helper()
	d, err := h.MakeDestination(t.Context())
	if err != nil {
		t.Fatalf("MakeDestination: %v", err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("driver Close: %v", err)
		}
	})
	return d
}

// makeDestination makes a destination.Destination over a new driver; it is
// closed when the test ends.
func makeDestination(t *testing.T, h Harness, missing bool) (*destination.Destination, driver.Destination) {
	t.Helper()
	mk := h.MakeDestination
	if missing {
		mk = h.MakeMissingDestination
	}
	d, err := mk(t.Context())
	if err != nil {
		t.Fatalf("making driver: %v", err)
	}
	dst, err := destination.New(d)
	if err != nil {
		t.Fatalf("destination.New: %v", err)
	}
	t.Cleanup(func() {
		if err := dst.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return dst, d
}

// receive reads back want messages, fails the test if fewer arrive, and
// then waits for settle to fail it if more do.
func receive(t *testing.T, h Harness, want int) []driver.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), arrivalTimeout)
	defer cancel()
	got, err := h.Received(ctx, want)
	if err != nil {
		t.Fatalf("Received: %v", err)
	}
	more := receiveNone(t, h)
	got = append(got, more...)
	if len(got) != want {
		t.Fatalf("got %d messages, want %d", len(got), want)
	}
	return got
}

// receiveNone waits for settle and returns whatever arrived, failing the
// test if anything did.
func receiveNone(t *testing.T, h Harness) []driver.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), settle)
	defer cancel()
	got, err := h.Received(ctx, 1)
	if err != nil {
		t.Fatalf("Received: %v", err)
	}
	for _, m := range got {
		t.Errorf("unexpected message (key %q): %.200s", m.Key, m.Body)
	}
	return got
}

func testDriverFormat(t *testing.T, h Harness) {
	d := makeDriver(t, h)
	f := d.Format()
	if f != driver.Metadata && f != driver.MetadataWithPayload {
		t.Fatalf("Format() = %v, want Metadata or MetadataWithPayload", f)
	}
	for range 3 {
		if g := d.Format(); g != f {
			t.Fatalf("Format() = %v, then %v: want the same value every time", f, g)
		}
	}
}

// checkMessage reports whether got is want, byte for byte.
func checkMessage(t *testing.T, h Harness, got, want driver.Message) {
	t.Helper()
	if !bytes.Equal(got.Body, want.Body) {
		t.Errorf("got body\n%s\nwant\n%s", got.Body, want.Body)
	}
	if h.ReportsKeys() && got.Key != want.Key {
		t.Errorf("got key %q, want %q", got.Key, want.Key)
	}
}

func testDriverArrivesOnce(t *testing.T, h Harness) {
	d := makeDriver(t, h)
	msg := message(t, d, invocation(1, 3, 10))
	if err := d.Send(t.Context(), msg); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := receive(t, h, 1)
	checkMessage(t, h, got[0], *msg)
}

// checkSet reports whether got holds each of want exactly once, in any
// order.
func checkSet(t *testing.T, h Harness, got []driver.Message, want []*driver.Message) {
	t.Helper()
	byBody := make(map[string]driver.Message, len(want))
	for _, m := range want {
		byBody[string(m.Body)] = *m
	}
	seen := make(map[string]bool, len(got))
	for _, m := range got {
		w, ok := byBody[string(m.Body)]
		switch {
		case !ok:
			t.Errorf("got a message that was not sent: %.200s", m.Body)
		case seen[string(m.Body)]:
			t.Errorf("got a message twice: %.200s", m.Body)
		default:
			seen[string(m.Body)] = true
			checkMessage(t, h, m, w)
		}
	}
	if len(seen) != len(want) {
		t.Errorf("got %d of the %d messages sent", len(seen), len(want))
	}
}

const concurrency = 16

func testDriverConcurrentSends(t *testing.T, h Harness) {
	d := makeDriver(t, h)
	msgs := make([]*driver.Message, concurrency)
	for i := range msgs {
		msgs[i] = message(t, d, invocation(i, 1+i%4, 8))
	}
	var wg sync.WaitGroup
	errs := make([]error, len(msgs))
	for i, m := range msgs {
		wg.Go(func() { errs[i] = d.Send(t.Context(), m) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("Send: %v", err)
	}
	checkSet(t, h, receive(t, h, len(msgs)), msgs)
}

// testDriverLargeMessage sends the largest record the driver's Format
// allows in practice: for S3, a payload of 20 records of 16 KiB each
// (about 440 kB of JSON, more than SQS or SNS would take); for SQS and SNS, whose document holds no record
// data, an invocation record with long identifiers.
func testDriverLargeMessage(t *testing.T, h Harness) {
	d := makeDriver(t, h)
	var inv *destination.Invocation
	if d.Format() == driver.MetadataWithPayload {
		inv = invocation(2, 20, 16<<10)
	} else {
		inv = invocation(2, 10000, 0)
		inv.FunctionARN += ":" + strings.Repeat("x", 100)
		inv.RequestID = strings.Repeat("r", 1000)
	}
	msg := message(t, d, inv)
	if err := d.Send(t.Context(), msg); err != nil {
		t.Fatalf("Send of %d bytes: %v", len(msg.Body), err)
	}
	got := receive(t, h, 1)
	checkMessage(t, h, got[0], *msg)
}

func testDriverCanceledContext(t *testing.T, h Harness) {
	d := makeDriver(t, h)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := d.Send(ctx, message(t, d, invocation(3, 1, 1)))
	if err == nil {
		t.Fatal("Send with a canceled context: got nil error")
	}
	if d.IsRetryable(err) {
		t.Errorf("IsRetryable(%v) = true, want false", err)
	}
	receiveNone(t, h)
}

func testDriverMissingDestination(t *testing.T, h Harness) {
	d, err := h.MakeMissingDestination(t.Context())
	if err != nil {
		t.Fatalf("MakeMissingDestination: %v", err)
	}
	defer d.Close()
	err = d.Send(t.Context(), message(t, d, invocation(4, 1, 1)))
	if err == nil {
		t.Fatal("Send to a missing destination: got nil error")
	}
	t.Logf("Send to a missing destination: %v", err)
	if d.IsRetryable(err) {
		t.Errorf("IsRetryable(%v) = true, want false", err)
	}
	if d.IsRetryable(nil) {
		t.Error("IsRetryable(nil) = true, want false")
	}
	if d.IsRetryable(context.Canceled) || d.IsRetryable(fmt.Errorf("op: %w", context.DeadlineExceeded)) {
		t.Error("IsRetryable of a context error = true, want false")
	}
}

// checkDocument checks that m is the record of want sent by a
// destination.Destination: the exact document, and Lambda's key layout.
func checkDocument(t *testing.T, h Harness, format driver.Format, m driver.Message, want *destination.Invocation) {
	t.Helper()
	marshal := destination.MarshalRecord
	if format == driver.MetadataWithPayload {
		marshal = destination.MarshalObject
	}
	wantBody, err := marshal(want)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	if !bytes.Equal(m.Body, wantBody) {
		t.Errorf("got document\n%s\nwant\n%s", m.Body, wantBody)
	}
	got, err := destination.Unmarshal(m.Body)
	if err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	if got.Condition != want.Condition || got.BatchSize != want.BatchSize || got.ShardID != want.ShardID ||
		got.StartSequenceNumber != want.StartSequenceNumber || got.EndSequenceNumber != want.EndSequenceNumber {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if format == driver.Metadata && len(got.Event.Records) != 0 {
		t.Errorf("got %d records in an SQS/SNS document, want none", len(got.Event.Records))
	}
	if format != driver.MetadataWithPayload || !h.ReportsKeys() {
		return
	}
	sm := keyPattern.FindStringSubmatch(m.Key)
	if sm == nil {
		t.Fatalf("got key %q, want aws/lambda/<uuid>/<shardId>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>", m.Key)
	}
	ts := want.Timestamp.UTC()
	wantParts := []string{want.MappingUUID, want.ShardID,
		ts.Format("2006"), ts.Format("01"), ts.Format("02"), ts.Format("2006"), ts.Format("01"), ts.Format("02"),
		ts.Format("15"), ts.Format("04"), ts.Format("05")}
	for i, w := range wantParts {
		if sm[i+1] != w {
			t.Errorf("key %q: part %d is %q, want %q", m.Key, i+1, sm[i+1], w)
		}
	}
}

func testDestinationDocument(t *testing.T, h Harness) {
	dst, d := makeDestination(t, h, false)
	inv := invocation(5, 3, 20)
	if err := dst.Send(t.Context(), inv); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := receive(t, h, 1)
	checkDocument(t, h, d.Format(), got[0], inv)
}

func testDestinationZeroTimestamp(t *testing.T, h Harness) {
	dst, d := makeDestination(t, h, false)
	inv := invocation(6, 1, 1)
	inv.Timestamp = time.Time{}
	before := time.Now().Truncate(time.Millisecond)
	if err := dst.Send(t.Context(), inv); err != nil {
		t.Fatalf("Send: %v", err)
	}
	after := time.Now()
	if !inv.Timestamp.IsZero() {
		t.Errorf("Send modified inv.Timestamp to %v", inv.Timestamp)
	}
	got := receive(t, h, 1)
	rec, err := destination.Unmarshal(got[0].Body)
	if err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	if rec.Timestamp.Before(before) || rec.Timestamp.After(after) {
		t.Errorf("got timestamp %v, want the time of Send, in [%v, %v]", rec.Timestamp, before, after)
	}
	inv.Timestamp = rec.Timestamp
	checkDocument(t, h, d.Format(), got[0], inv)
}

func testDestinationConcurrentSends(t *testing.T, h Harness) {
	dst, d := makeDestination(t, h, false)
	invs := make([]*destination.Invocation, concurrency)
	want := make([]*driver.Message, len(invs))
	for i := range invs {
		invs[i] = invocation(i, 1+i%3, 5)
		want[i] = message(t, d, invs[i])
	}
	var wg sync.WaitGroup
	errs := make([]error, len(invs))
	for i, inv := range invs {
		wg.Go(func() { errs[i] = dst.Send(t.Context(), inv) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := receive(t, h, len(invs))
	if d.Format() == driver.MetadataWithPayload {
		// Keys have random parts; compare bodies and check the layout.
		for i := range want {
			want[i].Key = ""
		}
		byBody := map[string]*destination.Invocation{}
		for i, m := range want {
			byBody[string(m.Body)] = invs[i]
		}
		for i := range got {
			if inv := byBody[string(got[i].Body)]; inv != nil {
				checkDocument(t, h, d.Format(), got[i], inv)
			}
			got[i].Key = ""
		}
	}
	checkSet(t, h, got, want)
}

func testDestinationCanceledContext(t *testing.T, h Harness) {
	dst, _ := makeDestination(t, h, false)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := dst.Send(ctx, invocation(7, 1, 1)); err != context.Canceled {
		t.Errorf("Send with a canceled context: got %v, want context.Canceled unwrapped", err)
	}
	ctx, cancel = context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel()
	if err := dst.Send(ctx, invocation(7, 1, 1)); err != context.DeadlineExceeded {
		t.Errorf("Send after the deadline: got %v, want context.DeadlineExceeded unwrapped", err)
	}
	receiveNone(t, h)
}

func testDestinationSendError(t *testing.T, h Harness) {
	dst, d := makeDestination(t, h, true)
	err := dst.Send(t.Context(), invocation(8, 1, 1))
	if err == nil {
		t.Fatal("Send to a missing destination: got nil error")
	}
	inner := errors.Unwrap(err)
	if inner == nil || !strings.HasPrefix(err.Error(), "destination: send: ") {
		t.Fatalf("got error %q, want the driver's error wrapped as \"destination: send: …\"", err)
	}
	if strings.HasPrefix(inner.Error(), "destination: ") {
		t.Errorf("got error %q, want the driver's error wrapped once", err)
	}
	if d.IsRetryable(inner) {
		t.Errorf("IsRetryable(%v) = true, want false", inner)
	}
	if errors.Is(err, destination.ErrInvalidInvocation) || errors.Is(err, destination.ErrClosed) {
		t.Errorf("got %v, want a driver error", err)
	}
}

func testDestinationClose(t *testing.T, h Harness) {
	d, err := h.MakeDestination(t.Context())
	if err != nil {
		t.Fatalf("MakeDestination: %v", err)
	}
	dst, err := destination.New(d)
	if err != nil {
		t.Fatalf("destination.New: %v", err)
	}
	if err := dst.Send(t.Context(), invocation(9, 1, 1)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if err := dst.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := dst.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := dst.Send(t.Context(), invocation(9, 1, 1)); !errors.Is(err, destination.ErrClosed) {
		t.Errorf("Send after Close: got %v, want ErrClosed", err)
	}
	receive(t, h, 1)
}
