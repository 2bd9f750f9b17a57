package destination

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/esmkit/esmkit/destination/driver"
	"github.com/esmkit/esmkit/internal/backoff"
	"github.com/esmkit/esmkit/internal/uuid"
)

var (
	// ErrClosed is returned by Send called after Close.
	ErrClosed = errors.New("destination: destination closed")
	// ErrInvalidOption is wrapped by New's errors for a nil driver, a
	// driver with an unknown Format, or a bad option value.
	ErrInvalidOption = errors.New("destination: invalid option")
)

// Destination delivers invocation records of discarded batches to an
// on-failure destination through a driver: an SQS queue, an SNS topic, an
// S3 bucket or a Go function. Create one with New.
//
// All methods are safe for concurrent use. A zero Destination is not
// usable.
type Destination struct {
	d           driver.Destination
	withPayload bool // d.Format() == driver.MetadataWithPayload
	cfg         config

	// mu protects closed. Send registers with ops while holding mu and
	// seeing closed false, and Close sets closed before it waits, so once
	// Wait returns no Send uses the driver.
	mu     sync.Mutex
	closed bool
	ops    sync.WaitGroup

	closeOnce sync.Once
	closeErr  error // set by closeOnce
}

// New returns a Destination that delivers with d. It starts no goroutines
// and makes no calls to the service, so a misconfigured queue, topic or
// bucket shows only when Send fails. The Destination owns d:
// Destination.Close closes it.
//
// New returns an error wrapping ErrInvalidOption if d is nil, is a nil
// Func, reports an unknown Format, or an option is invalid.
func New(d driver.Destination, opts ...Option) (*Destination, error) {
	if d == nil {
		return nil, fmt.Errorf("%w: driver is nil", ErrInvalidOption)
	}
	if f, ok := d.(Func); ok && f == nil {
		return nil, fmt.Errorf("%w: nil Func", ErrInvalidOption)
	}
	var withPayload bool
	switch f := d.Format(); f {
	case driver.Metadata:
	case driver.MetadataWithPayload:
		withPayload = true
	default:
		return nil, fmt.Errorf("%w: driver reports unknown %v", ErrInvalidOption, f)
	}
	cfg := defaultConfig()
	for _, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("%w: nil Option", ErrInvalidOption)
		}
		o.apply(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Destination{d: d, withPayload: withPayload, cfg: cfg}, nil
}

// Send delivers the invocation record of inv: the document of MarshalRecord
// for SQS and SNS drivers, or that of MarshalObject under Lambda's object
// key for S3-style drivers,
//
//	aws/lambda/<MappingUUID>/<ShardID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<random UUID>
//
// with the date and time of inv.Timestamp in UTC. If inv.Timestamp is zero,
// Send uses the current time. Send does not modify or retain inv.
//
// Send blocks until the driver accepted the record, failed with an error
// that is not retryable, failed MaxAttempts times, or ctx is done. Between
// attempts it pauses with a jittered exponential backoff. Every attempt
// delivers the same bytes under the same key, so a retry after an attempt
// that succeeded without saying so delivers the record twice to a queue or
// topic (at least once, as Lambda) and overwrites the same object in S3.
//
// Errors: an invalid inv yields an error wrapping ErrInvalidInvocation,
// without calling the driver; a Send after Close returns ErrClosed; when ctx
// is done, Send returns ctx.Err() unwrapped; otherwise the driver's last
// error is returned wrapped once, as "destination: send: <error>", for
// errors.Is and errors.As.
func (d *Destination) Send(ctx context.Context, inv *Invocation) error {
	if err := inv.validate(d.withPayload); err != nil {
		return err
	}
	if err := d.begin(); err != nil {
		return err
	}
	defer d.ops.Done()
	if err := ctx.Err(); err != nil {
		return err
	}

	rec := *inv // a copy, so the Timestamp filled in here is not the caller's
	if rec.Timestamp.IsZero() {
		rec.Timestamp = time.Now()
	}
	msg, err := d.prepare(&rec)
	if err != nil {
		return fmt.Errorf("destination: marshal: %w", err)
	}

	b := backoff.Backoff{Initial: d.cfg.minBackoff, Max: d.cfg.maxBackoff}
	for attempt := 1; ; attempt++ {
		err = d.d.Send(ctx, msg)
		if err == nil {
			return nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		if attempt == d.cfg.maxAttempts || !d.d.IsRetryable(err) {
			return fmt.Errorf("destination: send: %w", err)
		}
		if err := backoff.Sleep(ctx, b.Next()); err != nil {
			return err
		}
	}
}

// prepare builds the message for rec, whose Timestamp is set.
func (d *Destination) prepare(rec *Invocation) (*driver.Message, error) {
	if !d.withPayload {
		body, err := encode(rec.document())
		return &driver.Message{Body: body}, err
	}
	body, err := marshalObject(rec)
	if err != nil {
		return nil, err
	}
	return &driver.Message{Body: body, Key: objectKey(rec.MappingUUID, rec.ShardID, rec.Timestamp, uuid.New())}, nil
}

// Close waits for Sends in progress, then closes the driver. Later Sends
// return ErrClosed. Close returns the driver's Close error, wrapped as
// "destination: close: <error>"; a second Close returns the same result
// without closing again.
//
// Close does not cancel Sends in progress: cancel their contexts first to
// bound the time Close may take.
func (d *Destination) Close() error {
	d.closeOnce.Do(func() {
		d.mu.Lock()
		d.closed = true
		d.mu.Unlock()
		// The driver must not be closed under a Send that is using it.
		d.ops.Wait()
		if err := d.d.Close(); err != nil {
			d.closeErr = fmt.Errorf("destination: close: %w", err)
		}
	})
	return d.closeErr
}

// begin registers a Send in progress, or returns ErrClosed. The caller
// must call d.ops.Done.
func (d *Destination) begin() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return ErrClosed
	}
	d.ops.Add(1)
	return nil
}

// keyTimeLayout formats the date folders and the time part of an object
// key: YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS.
const keyTimeLayout = "2006/01/02/2006-01-02T15.04.05"

// objectKey returns Lambda's S3 object key for a record discarded at t.
func objectKey(mappingUUID, shardID string, t time.Time, id string) string {
	return "aws/lambda/" + mappingUUID + "/" + shardID + "/" + t.UTC().Format(keyTimeLayout) + "-" + id
}
