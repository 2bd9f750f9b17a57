package destination_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/esmkit/esmkit/destination"
	"github.com/esmkit/esmkit/destination/destinationtest"
	"github.com/esmkit/esmkit/destination/driver"
)

// funcHarness collects what its Func receives. Func hands over a parsed
// Invocation, so Received marshals it again: that the suite then sees the
// bytes it sent checks that Unmarshal and MarshalObject round-trip.
type funcHarness struct {
	mu      sync.Mutex // protects got
	got     []driver.Message
	arrived chan struct{} // closed and replaced on each arrival; under mu
}

func (h *funcHarness) MakeDestination(context.Context) (driver.Destination, error) {
	return destination.Func(func(_ context.Context, inv *destination.Invocation) error {
		body, err := destination.MarshalObject(inv)
		if err != nil {
			return err
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		h.got = append(h.got, driver.Message{Body: body})
		close(h.arrived)
		h.arrived = make(chan struct{})
		return nil
	}), nil
}

var errNoSuchDestination = errors.New("no such destination")

func (h *funcHarness) MakeMissingDestination(context.Context) (driver.Destination, error) {
	return destination.Func(func(context.Context, *destination.Invocation) error { return errNoSuchDestination }), nil
}

func (h *funcHarness) Received(ctx context.Context, n int) ([]driver.Message, error) {
	for {
		h.mu.Lock()
		if len(h.got) >= n || ctx.Err() != nil {
			got := h.got
			h.got = nil
			h.mu.Unlock()
			return got, nil
		}
		arrived := h.arrived
		h.mu.Unlock()
		select {
		case <-arrived:
		case <-ctx.Done():
		}
	}
}

// ReportsKeys is false: a Func sees the record, not the object key.
func (*funcHarness) ReportsKeys() bool { return false }
func (*funcHarness) Close()            {}

func TestConformance(t *testing.T) {
	destinationtest.Run(t, func(context.Context, *testing.T) (destinationtest.Harness, error) {
		return &funcHarness{arrived: make(chan struct{})}, nil
	})
}
