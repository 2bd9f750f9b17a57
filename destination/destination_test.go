package destination_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/esmkit/esmkit/destination"
	"github.com/esmkit/esmkit/destination/driver"
)

func newDestination(t *testing.T, d driver.Destination, opts ...destination.Option) *destination.Destination {
	t.Helper()
	dst, err := destination.New(d, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return dst
}

func TestNewInvalid(t *testing.T) {
	tests := []struct {
		name string
		d    driver.Destination
		opts []destination.Option
	}{
		{name: "nil driver"},
		{name: "nil Func", d: destination.Func(nil)},
		{name: "unknown format", d: newFake(0)},
		{name: "format out of range", d: newFake(driver.MetadataWithPayload + 1)},
		{name: "nil option", d: newFake(driver.Metadata), opts: []destination.Option{nil}},
		{name: "MaxAttempts 0", d: newFake(driver.Metadata), opts: []destination.Option{destination.MaxAttempts(0)}},
		{name: "MaxAttempts 101", d: newFake(driver.Metadata), opts: []destination.Option{destination.MaxAttempts(101)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst, err := destination.New(tc.d, tc.opts...)
			if !errors.Is(err, destination.ErrInvalidOption) || dst != nil {
				t.Errorf("got %v, %v, want nil, ErrInvalidOption", dst, err)
			}
		})
	}
	for _, n := range []int{1, 100} {
		if _, err := destination.New(newFake(driver.Metadata), destination.MaxAttempts(n)); err != nil {
			t.Errorf("MaxAttempts(%d): got %v, want nil", n, err)
		}
	}
}

// TestSendDocumentPerFormat checks that Send prepares the document the
// driver's Format asks for, with a key only for MetadataWithPayload.
func TestSendDocumentPerFormat(t *testing.T) {
	for _, tc := range []struct {
		format  driver.Format
		marshal func(*destination.Invocation) ([]byte, error)
	}{
		{driver.Metadata, destination.MarshalRecord},
		{driver.MetadataWithPayload, destination.MarshalObject},
	} {
		t.Run(tc.format.String(), func(t *testing.T) {
			f := newFake(tc.format)
			dst := newDestination(t, f)
			inv := awsObjectExample(t)
			if err := dst.Send(t.Context(), inv); err != nil {
				t.Fatal(err)
			}
			_, delivered, _ := f.snapshot()
			if len(delivered) != 1 {
				t.Fatalf("got %d deliveries, want 1", len(delivered))
			}
			want, _ := tc.marshal(inv)
			if !bytes.Equal(delivered[0].Body, want) {
				t.Errorf("got body\n%s\nwant\n%s", delivered[0].Body, want)
			}
			if (delivered[0].Key != "") != (tc.format == driver.MetadataWithPayload) {
				t.Errorf("got key %q for %v", delivered[0].Key, tc.format)
			}
		})
	}
}

// TestSendInvalid checks that an invalid Invocation never reaches the driver.
func TestSendInvalid(t *testing.T) {
	tests := []struct {
		name   string
		format driver.Format
		inv    func(*testing.T) *destination.Invocation
	}{
		{"nil", driver.Metadata, func(*testing.T) *destination.Invocation { return nil }},
		{"zero", driver.Metadata, func(*testing.T) *destination.Invocation { return &destination.Invocation{} }},
		{"no MappingUUID for S3", driver.MetadataWithPayload, func(t *testing.T) *destination.Invocation {
			inv := awsObjectExample(t)
			inv.MappingUUID = ""
			return inv
		}},
		{"BatchSize 0", driver.Metadata, func(t *testing.T) *destination.Invocation {
			inv := awsRecordExample(t)
			inv.BatchSize = 0
			return inv
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(tc.format)
			dst := newDestination(t, f)
			if err := dst.Send(t.Context(), tc.inv(t)); !errors.Is(err, destination.ErrInvalidInvocation) {
				t.Errorf("got %v, want ErrInvalidInvocation", err)
			}
			if attempts, _, _ := f.snapshot(); len(attempts) != 0 {
				t.Errorf("got %d driver calls, want 0", len(attempts))
			}
		})
	}
}

var uuidV4 = `[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`

// TestObjectKey checks Lambda's S3 key layout,
// aws/lambda/<mapping-uuid>/<shardId>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>:
// zero-padded fields, UTC, no fraction of a second.
func TestObjectKey(t *testing.T) {
	west := time.FixedZone("UTC-5", -5*3600)
	tests := []struct {
		name string
		ts   time.Time
		want string // the key without its random UUID
	}{
		{"single-digit month, day and time", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), "2024/01/02/2024-01-02T03.04.05"},
		{"two-digit fields", time.Date(2019, 11, 14, 23, 38, 56, 0, time.UTC), "2019/11/14/2019-11-14T23.38.56"},
		{"milliseconds dropped, not rounded", time.Date(2024, 6, 30, 12, 0, 59, 999_000_000, time.UTC), "2024/06/30/2024-06-30T12.00.59"},
		{"leap day", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), "2024/02/29/2024-02-29T00.00.00"},
		{"end of year", time.Date(2025, 12, 31, 23, 59, 59, 0, time.UTC), "2025/12/31/2025-12-31T23.59.59"},
		{"other zone, next UTC day and year", time.Date(2025, 12, 31, 21, 30, 0, 0, west), "2026/01/01/2026-01-01T02.30.00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(driver.MetadataWithPayload)
			dst := newDestination(t, f)
			inv := awsObjectExample(t)
			inv.Timestamp = tc.ts
			for range 2 {
				if err := dst.Send(t.Context(), inv); err != nil {
					t.Fatal(err)
				}
			}
			_, delivered, _ := f.snapshot()
			re := regexp.MustCompile(`^` + regexp.QuoteMeta("aws/lambda/"+inv.MappingUUID+"/shardId-000000000001/"+tc.want+"-") + uuidV4 + `$`)
			for _, m := range delivered {
				if !re.MatchString(m.Key) {
					t.Errorf("got key %q, want %s-<uuid v4>", m.Key, tc.want)
				}
			}
			if delivered[0].Key == delivered[1].Key {
				t.Errorf("two Sends of one record got the same key %q, want a random UUID each", delivered[0].Key)
			}
		})
	}
}

// TestRetry checks the retry policy with a scripted driver. It runs in a
// synctest bubble, so backoff pauses take no real time and are measured
// exactly.
func TestRetry(t *testing.T) {
	tests := []struct {
		name         string
		faults       []error
		opts         []destination.Option
		wantAttempts int
		wantErr      error // nil, or the driver error Send must wrap
		// minPause and maxPause bound the time spent in backoff: each
		// pause after attempt k is in [d/2, d], d = 100ms·2^(k-1) ≤ 2s.
		minPause, maxPause time.Duration
	}{
		{name: "first attempt succeeds", wantAttempts: 1},
		{name: "not retryable", faults: []error{errBroken}, wantAttempts: 1, wantErr: errBroken},
		{
			name:         "two throttles, then success",
			faults:       []error{errThrottled, errThrottled},
			wantAttempts: 3,
			minPause:     50*time.Millisecond + 100*time.Millisecond,
			maxPause:     100*time.Millisecond + 200*time.Millisecond,
		},
		{
			name:         "throttled until MaxAttempts (default 5)",
			faults:       []error{errThrottled, errThrottled, errThrottled, errThrottled, errThrottled, nil},
			wantAttempts: 5,
			wantErr:      errThrottled,
			minPause:     (100 + 200 + 400 + 800) * time.Millisecond / 2,
			maxPause:     (100 + 200 + 400 + 800) * time.Millisecond,
		},
		{
			name:         "retryable then not",
			faults:       []error{errThrottled, errBroken},
			wantAttempts: 2,
			wantErr:      errBroken,
			minPause:     50 * time.Millisecond,
			maxPause:     100 * time.Millisecond,
		},
		{
			name:         "MaxAttempts(1) turns retries off",
			faults:       []error{errThrottled},
			opts:         []destination.Option{destination.MaxAttempts(1)},
			wantAttempts: 1,
			wantErr:      errThrottled,
		},
		{
			name:         "pauses are capped at 2s",
			faults:       []error{errThrottled, errThrottled, errThrottled, errThrottled, errThrottled, errThrottled, errThrottled},
			opts:         []destination.Option{destination.MaxAttempts(8)},
			wantAttempts: 8,
			minPause:     (100 + 200 + 400 + 800 + 1600 + 2000 + 2000) * time.Millisecond / 2,
			maxPause:     (100 + 200 + 400 + 800 + 1600 + 2000 + 2000) * time.Millisecond,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFake(driver.MetadataWithPayload, tc.faults...)
				dst := newDestination(t, f, tc.opts...)
				start := time.Now()
				err := dst.Send(t.Context(), awsObjectExample(t))
				pause := time.Since(start)

				switch {
				case tc.wantErr == nil && err != nil:
					t.Fatalf("got %v, want nil", err)
				case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
					t.Fatalf("got %v, want it to wrap %v", err, tc.wantErr)
				case tc.wantErr != nil && err.Error() != "destination: send: "+tc.wantErr.Error():
					t.Errorf("got %q, want the driver error wrapped once as %q", err, "destination: send: "+tc.wantErr.Error())
				}
				attempts, delivered, _ := f.snapshot()
				if len(attempts) != tc.wantAttempts {
					t.Errorf("got %d attempts, want %d", len(attempts), tc.wantAttempts)
				}
				if wantDelivered := tc.wantErr == nil; (len(delivered) == 1) != wantDelivered || len(delivered) > 1 {
					t.Errorf("got %d deliveries, want %v", len(delivered), wantDelivered)
				}
				for _, a := range attempts[1:] {
					if !bytes.Equal(a.Body, attempts[0].Body) || a.Key != attempts[0].Key {
						t.Errorf("a retry sent key %q, want the first attempt's %q and the same body", a.Key, attempts[0].Key)
					}
				}
				if pause < tc.minPause || pause > tc.maxPause {
					t.Errorf("paused %v, want within [%v, %v]", pause, tc.minPause, tc.maxPause)
				}
			})
		})
	}
}

// TestSendContext checks that a done context ends Send at once, returning
// its error unwrapped: before the first attempt, during a backoff pause,
// and during a driver call.
func TestSendContext(t *testing.T) {
	t.Run("canceled before Send", func(t *testing.T) {
		f := newFake(driver.Metadata)
		dst := newDestination(t, f)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := dst.Send(ctx, awsRecordExample(t)); err != context.Canceled {
			t.Errorf("got %v, want context.Canceled", err)
		}
		if attempts, _, _ := f.snapshot(); len(attempts) != 0 {
			t.Errorf("got %d attempts, want 0", len(attempts))
		}
	})
	t.Run("deadline during backoff", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := newFake(driver.Metadata, errThrottled, errThrottled, errThrottled, errThrottled)
			dst := newDestination(t, f)
			// Pauses: [50,100]ms, then [100,200]ms; 120ms ends the
			// second pause or the third, never the first.
			ctx, cancel := context.WithTimeout(t.Context(), 120*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := dst.Send(ctx, awsRecordExample(t))
			if err != context.DeadlineExceeded {
				t.Errorf("got %v, want context.DeadlineExceeded unwrapped", err)
			}
			if d := time.Since(start); d != 120*time.Millisecond {
				t.Errorf("Send returned after %v, want at the deadline, 120ms", d)
			}
			if attempts, _, _ := f.snapshot(); len(attempts) < 2 || len(attempts) > 3 {
				t.Errorf("got %d attempts, want 2 or 3", len(attempts))
			}
		})
	})
	t.Run("canceled during a driver call", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := newFake(driver.Metadata)
			f.block = make(chan struct{}) // never closed: Send waits for ctx
			dst := newDestination(t, f)
			ctx, cancel := context.WithCancel(t.Context())
			var err error
			done := make(chan struct{})
			go func() {
				defer close(done)
				err = dst.Send(ctx, awsRecordExample(t))
			}()
			synctest.Wait()
			cancel()
			<-done
			if err != context.Canceled {
				t.Errorf("got %v, want context.Canceled unwrapped", err)
			}
		})
	})
}

func TestClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(driver.Metadata)
		f.closeErr = errBroken
		f.block = make(chan struct{})
		dst := newDestination(t, f)

		sendDone := make(chan error)
		go func() { sendDone <- dst.Send(context.Background(), awsRecordExample(t)) }()
		synctest.Wait() // the Send is in the driver

		var closeErr error
		closed := make(chan struct{})
		go func() {
			defer close(closed)
			closeErr = dst.Close()
		}()
		synctest.Wait()
		select {
		case <-closed:
			t.Fatal("Close returned while a Send was in the driver")
		default:
		}
		if _, _, closes := f.snapshot(); closes != 0 {
			t.Fatal("driver closed under a Send")
		}
		close(f.block)
		if err := <-sendDone; err != nil {
			t.Errorf("Send in progress: got %v, want nil", err)
		}
		<-closed
		if !errors.Is(closeErr, errBroken) || !strings.HasPrefix(closeErr.Error(), "destination: close: ") {
			t.Errorf("Close: got %v, want the driver's error wrapped as destination: close: …", closeErr)
		}
		if err := dst.Close(); err != closeErr {
			t.Errorf("second Close: got %v, want %v again", err, closeErr)
		}
		if _, _, closes := f.snapshot(); closes != 1 {
			t.Errorf("driver closed %d times, want 1", closes)
		}
		if err := dst.Send(context.Background(), awsRecordExample(t)); !errors.Is(err, destination.ErrClosed) {
			t.Errorf("Send after Close: got %v, want ErrClosed", err)
		}
	})
}

// TestConcurrentSendAndClose races Sends with Close under the race
// detector: each Send is delivered or gets ErrClosed, and the fake panics
// if the driver is used after Close.
func TestConcurrentSendAndClose(t *testing.T) {
	f := newFake(driver.MetadataWithPayload)
	dst := newDestination(t, f)
	const n = 64
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			inv := awsObjectExample(t)
			inv.ShardID = fmt.Sprintf("shardId-%012d", i)
			errs[i] = dst.Send(context.Background(), inv)
		})
		if i == n/2 {
			wg.Go(func() {
				if err := dst.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
		}
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, destination.ErrClosed):
			t.Errorf("Send: got %v, want nil or ErrClosed", err)
		}
	}
	if _, delivered, _ := f.snapshot(); len(delivered) != ok {
		t.Errorf("got %d deliveries, want %d (the Sends that returned nil)", len(delivered), ok)
	}
}

func TestFormatString(t *testing.T) {
	for f, want := range map[driver.Format]string{
		driver.Metadata: "Metadata", driver.MetadataWithPayload: "MetadataWithPayload", 0: "Format(0)", 7: "Format(7)",
	} {
		if got := f.String(); got != want {
			t.Errorf("Format(%d).String() = %q, want %q", int(f), got, want)
		}
	}
}
