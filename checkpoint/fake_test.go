package checkpoint_test

import (
	"context"
	"errors"
	"sync"

	"github.com/esmkit/esmkit/checkpoint/driver"
	"github.com/esmkit/esmkit/checkpoint/memcheckpoint"
)

var (
	// errThrottled is retryable.
	errThrottled = errors.New("fake: throttled")
	// errBroken is not.
	errBroken = errors.New("fake: broken")
	// errLateThrottle makes a Save apply and then report errThrottled, as a
	// timeout after the backend committed does.
	errLateThrottle = errors.New("fake: applied, then throttled")
)

// fakeDriver is an in-memory driver whose calls fail as scripted. It is a
// service, not a mock: unscripted calls do what memcheckpoint does.
type fakeDriver struct {
	*memcheckpoint.Store

	mu         sync.Mutex         // protects the fields below
	faults     map[string][]error // per operation, popped by each call; nil passes through
	calls      map[string]int     // calls per operation, including failed ones
	beforeSave func()             // if set, called before each Save, without mu
	closeErr   error
}

var _ driver.Store = (*fakeDriver)(nil)

func newFake() *fakeDriver {
	return &fakeDriver{
		Store:  memcheckpoint.New(),
		faults: map[string][]error{},
		calls:  map[string]int{},
	}
}

// fail makes the next calls of op return errs, in order.
func (f *fakeDriver) fail(op string, errs ...error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[op] = append(f.faults[op], errs...)
}

func (f *fakeDriver) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

func (f *fakeDriver) next(op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[op]++
	if len(f.faults[op]) == 0 {
		return nil
	}
	err := f.faults[op][0]
	f.faults[op] = f.faults[op][1:]
	return err
}

func (f *fakeDriver) Load(ctx context.Context, key driver.Key) (driver.Record, error) {
	if err := f.next("load"); err != nil {
		return driver.Record{}, err
	}
	return f.Store.Load(ctx, key)
}

func (f *fakeDriver) Save(ctx context.Context, key driver.Key, rec driver.Record, prev int64) error {
	f.mu.Lock()
	hook := f.beforeSave
	f.mu.Unlock()
	if hook != nil {
		hook()
	}
	switch err := f.next("save"); {
	case errors.Is(err, errLateThrottle):
		if err := f.Store.Save(ctx, key, rec, prev); err != nil {
			return err
		}
		return errThrottled
	case err != nil:
		return err
	}
	return f.Store.Save(ctx, key, rec, prev)
}

func (f *fakeDriver) List(ctx context.Context, mapping string) ([]driver.Entry, error) {
	if err := f.next("list"); err != nil {
		return nil, err
	}
	return f.Store.List(ctx, mapping)
}

func (f *fakeDriver) Delete(ctx context.Context, key driver.Key) error {
	if err := f.next("delete"); err != nil {
		return err
	}
	return f.Store.Delete(ctx, key)
}

func (f *fakeDriver) IsRetryable(err error) bool { return errors.Is(err, errThrottled) }

func (f *fakeDriver) Close() error {
	_ = f.next("close")
	return f.closeErr
}
