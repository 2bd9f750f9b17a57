package memcheckpoint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/esmkit/esmkit/checkpoint/driver"
)

var (
	errNotFound = errors.New("memcheckpoint: not found")
	errConflict = errors.New("memcheckpoint: version conflict")
)

// Store is an in-memory driver.Store. Pass it to checkpoint.New; its methods
// exist to implement driver.Store.
//
// All methods are safe for concurrent use. A Store made by New is empty; a
// zero Store is not usable.
type Store struct {
	mu sync.Mutex // protects m: every read and every compare-and-set of a record
	m  map[driver.Key]driver.Record
}

var _ driver.Store = (*Store)(nil)

// New returns an empty in-memory driver.
func New() *Store {
	return &Store{m: make(map[driver.Key]driver.Record)}
}

// Load implements driver.Store.
func (s *Store) Load(ctx context.Context, key driver.Key) (driver.Record, error) {
	if err := ctx.Err(); err != nil {
		return driver.Record{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.m[key]
	if !ok {
		return driver.Record{}, fmt.Errorf("%w: %s/%s", errNotFound, key.Mapping, key.ShardID)
	}
	rec.State = bytes.Clone(rec.State)
	return rec, nil
}

// Save implements driver.Store.
func (s *Store) Save(ctx context.Context, key driver.Key, rec driver.Record, prevVersion int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var stored int64 // 0 when absent, matching prevVersion 0 = "must not exist"
	if old, ok := s.m[key]; ok {
		stored = old.Version
	}
	if stored != prevVersion {
		return fmt.Errorf("%w: %s/%s has version %d, want %d", errConflict, key.Mapping, key.ShardID, stored, prevVersion)
	}
	rec.State = bytes.Clone(rec.State)
	rec.Version = prevVersion + 1
	s.m[key] = rec
	return nil
}

// List implements driver.Store.
func (s *Store) List(ctx context.Context, mapping string) ([]driver.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []driver.Entry{}
	for k, rec := range s.m {
		if k.Mapping == mapping {
			rec.State = bytes.Clone(rec.State)
			out = append(out, driver.Entry{Key: k, Record: rec})
		}
	}
	return out, nil
}

// Delete implements driver.Store.
func (s *Store) Delete(ctx context.Context, key driver.Key) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}

// IsNotFound implements driver.Store.
func (*Store) IsNotFound(err error) bool { return errors.Is(err, errNotFound) }

// IsConflict implements driver.Store.
func (*Store) IsConflict(err error) bool { return errors.Is(err, errConflict) }

// IsRetryable implements driver.Store. Memory never fails transiently.
func (*Store) IsRetryable(error) bool { return false }

// Close implements driver.Store. It does nothing, so that several
// checkpoint.Stores sharing this Store may each close theirs; the
// checkpoints stay readable.
func (*Store) Close() error { return nil }
