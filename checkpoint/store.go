package checkpoint

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/esmkit/esmkit/checkpoint/driver"
	"github.com/esmkit/esmkit/internal/seqnum"
)

var (
	// ErrClosed is returned by every method of a Store called after Close.
	ErrClosed = errors.New("checkpoint: store closed")
	// ErrInvalidKey is wrapped by errors for a Key with an empty or
	// non-UTF-8 field.
	ErrInvalidKey = errors.New("checkpoint: invalid key")
	// ErrInvalidCheckpoint is wrapped by errors for a Checkpoint whose
	// SequenceNumber is neither "" nor a decimal string of 1 to 128 digits.
	ErrInvalidCheckpoint = errors.New("checkpoint: invalid checkpoint")
	// ErrInvalidOption is wrapped by New's errors for a nil driver or a bad
	// option value.
	ErrInvalidOption = errors.New("checkpoint: invalid option")
)

// Retry policy for retryable driver errors, and the bound on successive
// version conflicts of one write (each conflict means another writer
// succeeded, so this only stops a write that keeps losing to a busy one).
const (
	maxAttempts  = 5
	baseBackoff  = 25 * time.Millisecond
	maxBackoff   = time.Second
	maxConflicts = 32
)

// Key names one checkpoint: one shard of one mapping. Both fields must be
// non-empty, valid UTF-8.
type Key struct {
	// Mapping identifies the event source mapping, for example chosen by
	// the user or derived from the stream ARN and the function name.
	Mapping string
	// ShardID is the Kinesis shard ID, such as "shardId-000000000000".
	ShardID string
}

// Checkpoint is the position of one shard. The zero Checkpoint means that
// nothing of the shard has finished.
type Checkpoint struct {
	// SequenceNumber is the sequence number of the last finished record,
	// or "" when none has finished yet. Reading resumes after it.
	SequenceNumber string
	// ShardEnded reports that the shard was read to its end and every
	// record is finished, so its child shards may start. Once true it
	// stays true.
	ShardEnded bool
	// State is opaque data kept with the position, such as tumbling-window
	// state. Save copies it; Load returns a copy.
	State []byte
	// UpdatedAt is when the value was passed to Save, in UTC, truncated to
	// the millisecond. Save sets it and ignores the value passed in.
	UpdatedAt time.Time
}

// Store keeps checkpoints in a driver's backend and never moves them
// backwards. Create one with New. All methods are safe for concurrent use.
// A zero Store is not usable.
type Store struct {
	d   driver.Store
	cfg config

	// mu protects closed and the entries map (not the entries: each has its
	// own lock). mu and an entry's mu are never held together.
	mu      sync.Mutex
	closed  bool
	entries map[Key]*entry

	// ops counts calls in progress. Add is called with mu held and closed
	// false, and Close sets closed before it Waits, so after Wait returns no
	// call uses the driver but Close itself.
	ops sync.WaitGroup
}

// entry is what a Store knows about one key.
type entry struct {
	key Key // immutable

	// mu protects the fields below. It is held across driver calls for the
	// key, so the writes of one key happen one at a time, each based on the
	// version the previous one left.
	mu sync.Mutex
	// known reports that version and cp reflect the backend as of the last
	// Load, Save or Delete of this key; until then the key is loaded before
	// it is written.
	known bool
	// version is the stored version as last seen; 0 means not stored.
	version int64
	// cp is the latest value: the stored one, or a newer one if dirty.
	cp Checkpoint
	// dirty reports that cp is ahead of the stored value and not written.
	dirty bool
	// lastWrite is when cp was last written by this Store; zero before that.
	lastWrite time.Time
}

// New returns a Store that keeps checkpoints with d. It starts no
// goroutines. The Store owns d: Store.Close closes it.
//
// New returns an error wrapping ErrInvalidOption if d is nil or an option
// is invalid.
func New(d driver.Store, opts ...Option) (*Store, error) {
	if d == nil {
		return nil, fmt.Errorf("%w: driver is nil", ErrInvalidOption)
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
	return &Store{d: d, cfg: cfg, entries: make(map[Key]*entry)}, nil
}

// Load returns the checkpoint for key: the stored one, or a newer value
// saved but not yet written (see FlushInterval). found is false, with a nil
// error and a zero Checkpoint, if there is none — a shard never
// checkpointed.
//
// Load always reads the backend, so it sees what other Stores wrote. It
// blocks while a Save of the same key is writing.
func (s *Store) Load(ctx context.Context, key Key) (cp Checkpoint, found bool, err error) {
	if err := validateKey(key); err != nil {
		return Checkpoint{}, false, err
	}
	e, err := s.begin(key)
	if err != nil {
		return Checkpoint{}, false, err
	}
	defer s.ops.Done()

	e.mu.Lock()
	defer e.mu.Unlock()
	if err := s.loadLocked(ctx, e); err != nil {
		return Checkpoint{}, false, s.fail(ctx, "load", key, err)
	}
	if e.version == 0 && !e.dirty {
		return Checkpoint{}, false, nil
	}
	return e.cp.clone(), true, nil
}

// Save records cp as the position of key, unless that would move it
// backwards (see the package doc): a Save with a lower SequenceNumber than
// the current one is a no-op that returns nil.
//
// Save writes through, unless FlushInterval is set and the key was written
// less than the interval ago; then it keeps cp in memory and returns nil.
// ShardEnded true always writes through. If writing fails, Save returns the
// error and keeps cp in memory; a later Save, Flush or Close writes it.
func (s *Store) Save(ctx context.Context, key Key, cp Checkpoint) error {
	if err := validateKey(key); err != nil {
		return err
	}
	if cp.SequenceNumber != "" && !seqnum.Valid(cp.SequenceNumber) {
		return fmt.Errorf("%w: SequenceNumber %q is not a decimal string of 1 to 128 digits", ErrInvalidCheckpoint, cp.SequenceNumber)
	}
	e, err := s.begin(key)
	if err != nil {
		return err
	}
	defer s.ops.Done()

	cp.State = bytes.Clone(cp.State)
	cp.UpdatedAt = time.Now().UTC().Truncate(time.Millisecond)

	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.known {
		// Compare against the stored value, not the zero Checkpoint, so a
		// restarted process cannot move the checkpoint backwards.
		if err := s.loadLocked(ctx, e); err != nil {
			return s.fail(ctx, "save", key, err)
		}
	}
	if merged, changed := advance(e.cp, cp); changed {
		e.cp = merged
		e.dirty = true
	}
	if !e.dirty {
		return nil
	}
	if iv := s.cfg.flushInterval; iv > 0 && !cp.ShardEnded && !e.lastWrite.IsZero() && time.Since(e.lastWrite) < iv {
		return nil
	}
	if err := s.writeLocked(ctx, e); err != nil {
		return s.fail(ctx, "save", key, err)
	}
	return nil
}

// List returns the checkpoints of every shard of mapping, keyed by shard
// ID, including values saved but not yet written. It returns an empty map
// when there are none. Like Load, it reads the backend.
func (s *Store) List(ctx context.Context, mapping string) (map[string]Checkpoint, error) {
	if err := validateMapping(mapping); err != nil {
		return nil, err
	}
	if err := s.beginOp(); err != nil {
		return nil, err
	}
	defer s.ops.Done()

	var ents []driver.Entry
	err := s.retry(ctx, func(ctx context.Context) error {
		var err error
		ents, err = s.d.List(ctx, mapping)
		return err
	})
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, fmt.Errorf("checkpoint: list %s: %w", mapping, err)
	}
	out := make(map[string]Checkpoint, len(ents))
	for _, en := range ents {
		out[en.Key.ShardID] = fromRecord(en.Record)
	}
	for _, e := range s.snapshot() {
		if e.key.Mapping != mapping {
			continue
		}
		e.mu.Lock()
		if e.dirty {
			if stored, ok := out[e.key.ShardID]; !ok {
				out[e.key.ShardID] = e.cp.clone()
			} else if merged, changed := advance(stored, e.cp); changed {
				out[e.key.ShardID] = merged.clone()
			}
		}
		e.mu.Unlock()
	}
	return out, nil
}

// Delete removes the checkpoint of key, including a value not yet written.
// Deleting a missing checkpoint returns nil. Delete is the one way to move
// a position backwards: a later Save starts afresh.
func (s *Store) Delete(ctx context.Context, key Key) error {
	if err := validateKey(key); err != nil {
		return err
	}
	e, err := s.begin(key)
	if err != nil {
		return err
	}
	defer s.ops.Done()

	e.mu.Lock()
	defer e.mu.Unlock()
	dk := driver.Key(key)
	if err := s.retry(ctx, func(ctx context.Context) error { return s.d.Delete(ctx, dk) }); err != nil {
		return s.fail(ctx, "delete", key, err)
	}
	e.known, e.version, e.cp, e.dirty, e.lastWrite = true, 0, Checkpoint{}, false, time.Time{}
	return nil
}

// Flush writes every value kept in memory by FlushInterval, whatever the
// interval. It returns the errors of the keys it could not write, joined;
// their values stay in memory. If ctx is done it stops and returns ctx's
// error.
func (s *Store) Flush(ctx context.Context) error {
	if err := s.beginOp(); err != nil {
		return err
	}
	defer s.ops.Done()
	return s.flush(ctx)
}

// Close flushes like Flush, without a deadline, and then closes the driver.
// Call Flush first to bound the time Close may take. Close waits for calls
// in progress; later calls return ErrClosed. A second Close returns nil.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()

	// 1. Wait for calls in progress: they may be writing with the driver,
	//    and may leave dirty values the flush below must see.
	s.ops.Wait()
	// 2. Write values kept by FlushInterval; dropping them would make a
	//    restart replay records that were finished.
	err := s.flush(context.Background())
	// 3. Close the driver last, as the flush uses it.
	if cerr := s.d.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("checkpoint: close: %w", cerr))
	}
	return err
}

// begin registers a call in progress for key and returns its entry, or
// ErrClosed. The caller must call s.ops.Done.
func (s *Store) begin(key Key) (*entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	s.ops.Add(1)
	e := s.entries[key]
	if e == nil {
		e = &entry{key: key}
		s.entries[key] = e
	}
	return e, nil
}

// beginOp registers a call in progress, or returns ErrClosed. The caller
// must call s.ops.Done.
func (s *Store) beginOp() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	s.ops.Add(1)
	return nil
}

// snapshot returns the entries sorted by key, so flushes run in a stable
// order.
func (s *Store) snapshot() []*entry {
	s.mu.Lock()
	es := make([]*entry, 0, len(s.entries))
	for _, e := range s.entries {
		es = append(es, e)
	}
	s.mu.Unlock()
	slices.SortFunc(es, func(a, b *entry) int {
		return cmp.Or(cmp.Compare(a.key.Mapping, b.key.Mapping), cmp.Compare(a.key.ShardID, b.key.ShardID))
	})
	return es
}

func (s *Store) flush(ctx context.Context) error {
	var errs []error
	for _, e := range s.snapshot() {
		e.mu.Lock()
		var err error
		if e.dirty {
			err = s.writeLocked(ctx, e)
		}
		e.mu.Unlock()
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return ctxErr
			}
			errs = append(errs, s.fail(ctx, "save", e.key, err))
		}
	}
	return errors.Join(errs...)
}

// loadLocked reads e's key from the backend and rebases e on it: a dirty
// value still ahead of the stored one stays dirty (never-backwards applied
// on top of the stored value); otherwise e takes the stored value.
// e.mu must be held. The error is the driver's, unwrapped.
func (s *Store) loadLocked(ctx context.Context, e *entry) error {
	var rec driver.Record
	err := s.retry(ctx, func(ctx context.Context) error {
		var err error
		rec, err = s.d.Load(ctx, driver.Key(e.key))
		return err
	})
	var stored Checkpoint
	switch {
	case err == nil:
		stored = fromRecord(rec)
	case s.d.IsNotFound(err):
		rec = driver.Record{}
	default:
		return err
	}
	e.known = true
	e.version = rec.Version
	if e.dirty {
		if merged, changed := advance(stored, e.cp); changed {
			e.cp = merged
			return nil
		}
		e.dirty = false // the stored value is as far as ours, or further
	}
	e.cp = stored
	return nil
}

// writeLocked writes e.cp conditional on e.version. On a conflict it
// reloads, which reapplies never-backwards, and writes again if e.cp is
// still ahead. e.mu must be held. The error is the driver's, unwrapped.
func (s *Store) writeLocked(ctx context.Context, e *entry) error {
	dk := driver.Key(e.key)
	for conflicts := 0; ; conflicts++ {
		rec := toRecord(e.cp)
		prev := e.version
		err := s.retry(ctx, func(ctx context.Context) error { return s.d.Save(ctx, dk, rec, prev) })
		if err == nil {
			e.version = prev + 1
			e.dirty = false
			e.lastWrite = time.Now()
			return nil
		}
		// A conflict means another writer got there first, or that an
		// earlier attempt of this write was applied although it reported a
		// retryable error; reloading handles both.
		if !s.d.IsConflict(err) || conflicts == maxConflicts {
			return err
		}
		if err := s.loadLocked(ctx, e); err != nil {
			return err
		}
		if !e.dirty {
			return nil
		}
	}
}

// retry calls op until it succeeds, fails with an error that is not
// retryable, has been called maxAttempts times, or ctx is done. It returns
// op's last error, or ctx's error if ctx ended a backoff.
func (s *Store) retry(ctx context.Context, op func(context.Context) error) error {
	for attempt := 1; ; attempt++ {
		err := op(ctx)
		if err == nil || attempt == maxAttempts || ctx.Err() != nil || !s.d.IsRetryable(err) {
			return err
		}
		t := time.NewTimer(backoff(attempt))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// backoff returns the pause after the given failed attempt: exponential
// from baseBackoff, capped at maxBackoff, with half of it random so that
// workers throttled together do not retry together.
func backoff(attempt int) time.Duration {
	d := min(baseBackoff<<(attempt-1), maxBackoff)
	return d/2 + rand.N(d/2+1)
}

// fail wraps a driver error once, naming the operation and the shard. If ctx
// is done its error is returned instead, unwrapped.
func (s *Store) fail(ctx context.Context, op string, key Key, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	return fmt.Errorf("checkpoint: %s %s: %w", op, key.ShardID, err)
}

// advance applies the never-backwards rule: it returns the value to keep
// when nw is saved over cur, and whether it differs from cur.
func advance(cur, nw Checkpoint) (Checkpoint, bool) {
	switch c := seqnum.Compare(nw.SequenceNumber, cur.SequenceNumber); {
	case c < 0:
		return cur, false
	case c > 0:
		nw.ShardEnded = nw.ShardEnded || cur.ShardEnded
		return nw, true
	}
	changed := false
	if nw.ShardEnded && !cur.ShardEnded {
		cur.ShardEnded = true
		changed = true
	}
	if !bytes.Equal(nw.State, cur.State) {
		cur.State = nw.State
		changed = true
	}
	if changed {
		cur.UpdatedAt = nw.UpdatedAt
	}
	return cur, changed
}

func validateMapping(m string) error {
	switch {
	case m == "":
		return fmt.Errorf("%w: empty Mapping", ErrInvalidKey)
	case !utf8.ValidString(m):
		return fmt.Errorf("%w: Mapping %q is not valid UTF-8", ErrInvalidKey, m)
	}
	return nil
}

func validateKey(k Key) error {
	if err := validateMapping(k.Mapping); err != nil {
		return err
	}
	switch {
	case k.ShardID == "":
		return fmt.Errorf("%w: empty ShardID", ErrInvalidKey)
	case !utf8.ValidString(k.ShardID):
		return fmt.Errorf("%w: ShardID %q is not valid UTF-8", ErrInvalidKey, k.ShardID)
	}
	return nil
}

func (cp Checkpoint) clone() Checkpoint {
	cp.State = bytes.Clone(cp.State)
	return cp
}

func toRecord(cp Checkpoint) driver.Record {
	return driver.Record{
		SequenceNumber: cp.SequenceNumber,
		ShardEnded:     cp.ShardEnded,
		State:          cp.State,
		UpdatedAt:      cp.UpdatedAt,
	}
}

func fromRecord(rec driver.Record) Checkpoint {
	return Checkpoint{
		SequenceNumber: rec.SequenceNumber,
		ShardEnded:     rec.ShardEnded,
		State:          rec.State,
		UpdatedAt:      rec.UpdatedAt,
	}
}
