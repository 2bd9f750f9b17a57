package destination_test

import (
	"context"
	"errors"
	"sync"

	"github.com/esmkit/esmkit/destination/driver"
)

var (
	// errThrottled is retryable.
	errThrottled = errors.New("fake: throttled")
	// errBroken is not.
	errBroken = errors.New("fake: broken")
)

// fakeDriver is an in-memory destination whose Sends fail as scripted. It
// is a service, not a mock: a Send that is not scripted to fail is kept, and
// delivered reports what was kept.
type fakeDriver struct {
	format driver.Format

	mu        sync.Mutex // protects the fields below
	faults    []error    // popped by each Send; nil succeeds
	attempts  []driver.Message
	delivered []driver.Message
	closes    int
	closeErr  error
	// block, if set, is received from by each Send before it does
	// anything else, or Send returns ctx.Err() if ctx ends first.
	block chan struct{}
}

var _ driver.Destination = (*fakeDriver)(nil)

func newFake(format driver.Format, faults ...error) *fakeDriver {
	return &fakeDriver{format: format, faults: faults}
}

func (f *fakeDriver) Format() driver.Format { return f.format }

func (f *fakeDriver) Send(ctx context.Context, msg *driver.Message) error {
	f.mu.Lock()
	block := f.block
	f.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closes > 0 {
		panic("fake: Send after Close")
	}
	m := driver.Message{Body: append([]byte(nil), msg.Body...), Key: msg.Key}
	f.attempts = append(f.attempts, m)
	if len(f.faults) > 0 {
		err := f.faults[0]
		f.faults = f.faults[1:]
		if err != nil {
			return err
		}
	}
	f.delivered = append(f.delivered, m)
	return nil
}

func (f *fakeDriver) IsRetryable(err error) bool { return errors.Is(err, errThrottled) }

func (f *fakeDriver) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closes++
	return f.closeErr
}

func (f *fakeDriver) snapshot() (attempts, delivered []driver.Message, closes int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]driver.Message(nil), f.attempts...), append([]driver.Message(nil), f.delivered...), f.closes
}
