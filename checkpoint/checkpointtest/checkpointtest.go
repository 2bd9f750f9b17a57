package checkpointtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/esmkit/esmkit/checkpoint"
	"github.com/esmkit/esmkit/checkpoint/driver"
)

// Harness gives the suite access to a driver's backend.
type Harness interface {
	// MakeStore returns a driver.Store over the harness's backend. The
	// Stores made by one Harness share their data, like workers sharing a
	// table, so the suite calls MakeStore several times to test writers
	// in different processes. The suite closes each Store it makes.
	MakeStore(ctx context.Context) (driver.Store, error)

	// MaxStateSize reports the largest Record.State, in bytes, the driver
	// stores. The suite saves a State of min(MaxStateSize, 1 MiB) bytes.
	MaxStateSize() int

	// Close releases the harness's resources, after the Stores it made
	// are closed.
	Close()
}

// HarnessMaker makes a Harness over an empty backend. Run calls it once per
// test and calls Harness.Close when the test ends. The suite also uses a
// fresh mapping name in each test, so a backend that is not empty works too.
type HarnessMaker func(ctx context.Context, t *testing.T) (Harness, error)

// Run runs the conformance suite against the driver newHarness makes.
func Run(t *testing.T, newHarness HarnessMaker) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"Driver/LoadNotFound", testDriverLoadNotFound},
		{"Driver/CreateIfAbsent", testDriverCreateIfAbsent},
		{"Driver/ConflictOnWrongVersion", testDriverConflictOnWrongVersion},
		{"Driver/VersionsIncrease", testDriverVersionsIncrease},
		{"Driver/RoundTrip", testDriverRoundTrip},
		{"Driver/DoesNotRetainState", testDriverDoesNotRetainState},
		{"Driver/List", testDriverList},
		{"Driver/Delete", testDriverDelete},
		{"Driver/ClassifiesErrors", testDriverClassifiesErrors},
		{"Driver/SharedBackend", testDriverSharedBackend},
		{"Driver/ConcurrentSaversOneWinner", testDriverConcurrentSavers},
		{"Driver/CanceledContext", testDriverCanceledContext},
		{"Store/NotFound", testStoreNotFound},
		{"Store/RoundTrip", testStoreRoundTrip},
		{"Store/NeverBackwards", testStoreNeverBackwards},
		{"Store/NeverBackwardsAcrossStores", testStoreNeverBackwardsAcrossStores},
		{"Store/ConcurrentSaveKeepsMax", testStoreConcurrentSave},
		{"Store/ConcurrentStoresKeepMax", testStoreConcurrentStores},
		{"Store/FlushWritesDirty", testStoreFlush},
		{"Store/List", testStoreList},
		{"Store/Delete", testStoreDelete},
		{"Store/Close", testStoreClose},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := newHarness(t.Context(), t)
			if err != nil {
				t.Fatalf("making harness: %v", err)
			}
			defer h.Close()
			tc.fn(t, h)
		})
	}
}

// seq returns a 56-digit sequence number, as Kinesis makes, that sorts as n.
func seq(n int) string { return fmt.Sprintf("4959%052d", n) }

// newMapping returns a mapping name no other test or run uses.
func newMapping(t *testing.T) string {
	return fmt.Sprintf("%s-%016x", t.Name(), rand.Uint64())
}

// makeDriver makes a driver.Store that is closed when the test ends.
func makeDriver(t *testing.T, h Harness) driver.Store {
	t.Helper()
	d, err := h.MakeStore(t.Context())
	if err != nil {
		t.Fatalf("MakeStore: %v", err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("driver Close: %v", err)
		}
	})
	return d
}

// makeStore makes a checkpoint.Store over a new driver.Store; it is closed
// when the test ends.
func makeStore(t *testing.T, h Harness, opts ...checkpoint.Option) *checkpoint.Store {
	t.Helper()
	d, err := h.MakeStore(t.Context())
	if err != nil {
		t.Fatalf("MakeStore: %v", err)
	}
	st, err := checkpoint.New(d, opts...)
	if err != nil {
		t.Fatalf("checkpoint.New: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return st
}

var testTime = time.Date(2024, 5, 6, 7, 8, 9, 123_000_000, time.UTC)

func record(n int) driver.Record {
	return driver.Record{SequenceNumber: seq(n), UpdatedAt: testTime}
}

// sameRecord reports whether got equals want in every stored field but
// Version.
func sameRecord(got, want driver.Record) bool {
	return got.SequenceNumber == want.SequenceNumber &&
		got.ShardEnded == want.ShardEnded &&
		bytes.Equal(got.State, want.State) &&
		got.UpdatedAt.Equal(want.UpdatedAt)
}

func fmtRecord(r driver.Record) string {
	return fmt.Sprintf("{Seq:%q Ended:%v State:%d bytes UpdatedAt:%v Version:%d}",
		r.SequenceNumber, r.ShardEnded, len(r.State), r.UpdatedAt, r.Version)
}

func mustLoad(t *testing.T, d driver.Store, key driver.Key) driver.Record {
	t.Helper()
	rec, err := d.Load(t.Context(), key)
	if err != nil {
		t.Fatalf("Load(%v): %v", key, err)
	}
	return rec
}

func mustSave(t *testing.T, d driver.Store, key driver.Key, rec driver.Record, prev int64) {
	t.Helper()
	if err := d.Save(t.Context(), key, rec, prev); err != nil {
		t.Fatalf("Save(%v, prev %d): %v", key, prev, err)
	}
}

func testDriverLoadNotFound(t *testing.T, h Harness) {
	d := makeDriver(t, h)
	_, err := d.Load(t.Context(), driver.Key{Mapping: newMapping(t), ShardID: "shardId-000000000000"})
	if err == nil {
		t.Fatal("Load of a missing key: got nil error, want not found")
	}
	if !d.IsNotFound(err) {
		t.Errorf("IsNotFound(%v) = false, want true", err)
	}
	if d.IsConflict(err) || d.IsRetryable(err) {
		t.Errorf("IsConflict, IsRetryable(%v) = %v, %v, want false, false", err, d.IsConflict(err), d.IsRetryable(err))
	}
}

func testDriverCreateIfAbsent(t *testing.T, h Harness) {
	ctx := t.Context()
	d := makeDriver(t, h)
	key := driver.Key{Mapping: newMapping(t), ShardID: "shardId-000000000000"}
	mustSave(t, d, key, record(1), 0)
	if got := mustLoad(t, d, key); got.Version != 1 || !sameRecord(got, record(1)) {
		t.Fatalf("after create: got %s, want %s with Version 1", fmtRecord(got), fmtRecord(record(1)))
	}
	err := d.Save(ctx, key, record(2), 0)
	if !d.IsConflict(err) {
		t.Fatalf("second Save with prevVersion 0: got %v, want a conflict", err)
	}
	if d.IsNotFound(err) || d.IsRetryable(err) {
		t.Errorf("IsNotFound, IsRetryable(%v) = %v, %v, want false, false", err, d.IsNotFound(err), d.IsRetryable(err))
	}
	if got := mustLoad(t, d, key); got.Version != 1 || !sameRecord(got, record(1)) {
		t.Errorf("after conflict: got %s, want it unchanged", fmtRecord(got))
	}
}

func testDriverConflictOnWrongVersion(t *testing.T, h Harness) {
	d := makeDriver(t, h)
	mapping := newMapping(t)
	tests := []struct {
		name    string
		stored  int // number of Saves before the tested one
		prev    int64
		wantErr bool
	}{
		{name: "missing, prev 0", stored: 0, prev: 0},
		{name: "missing, prev 1", stored: 0, prev: 1, wantErr: true},
		{name: "version 1, prev 0", stored: 1, prev: 0, wantErr: true},
		{name: "version 1, prev 1", stored: 1, prev: 1},
		{name: "version 1, prev 2", stored: 1, prev: 2, wantErr: true},
		{name: "version 3, prev 2", stored: 3, prev: 2, wantErr: true},
		{name: "version 3, prev 3", stored: 3, prev: 3},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := driver.Key{Mapping: mapping, ShardID: fmt.Sprintf("shardId-%012d", i)}
			for v := range tc.stored {
				mustSave(t, d, key, record(v), int64(v))
			}
			err := d.Save(t.Context(), key, record(100), tc.prev)
			switch {
			case tc.wantErr && !d.IsConflict(err):
				t.Fatalf("Save(prev %d): got %v, want a conflict", tc.prev, err)
			case !tc.wantErr && err != nil:
				t.Fatalf("Save(prev %d): got %v, want nil", tc.prev, err)
			}
			rec, err := d.Load(t.Context(), key)
			switch {
			case tc.wantErr && tc.stored == 0:
				if !d.IsNotFound(err) {
					t.Errorf("Load after failed create: got %s, %v, want not found", fmtRecord(rec), err)
				}
			case tc.wantErr:
				if err != nil || rec.Version != int64(tc.stored) || !sameRecord(rec, record(tc.stored-1)) {
					t.Errorf("Load after conflict: got %s, %v, want %s with Version %d", fmtRecord(rec), err, fmtRecord(record(tc.stored-1)), tc.stored)
				}
			default:
				if err != nil || rec.Version != tc.prev+1 || !sameRecord(rec, record(100)) {
					t.Errorf("Load after Save: got %s, %v, want %s with Version %d", fmtRecord(rec), err, fmtRecord(record(100)), tc.prev+1)
				}
			}
		})
	}
}

func testDriverVersionsIncrease(t *testing.T, h Harness) {
	d := makeDriver(t, h)
	key := driver.Key{Mapping: newMapping(t), ShardID: "shardId-000000000000"}
	for v := int64(0); v < 5; v++ {
		rec := record(int(v))
		rec.Version = 42 // ignored by Save
		mustSave(t, d, key, rec, v)
		if got := mustLoad(t, d, key); got.Version != v+1 {
			t.Fatalf("after Save %d: got Version %d, want %d", v+1, got.Version, v+1)
		}
	}
}

func testDriverRoundTrip(t *testing.T, h Harness) {
	d := makeDriver(t, h)
	mapping := newMapping(t)
	big := make([]byte, min(h.MaxStateSize(), 1<<20))
	for i := range big {
		big[i] = byte(i * 7)
	}
	tests := []struct {
		name string
		rec  driver.Record
	}{
		{"nothing finished", driver.Record{UpdatedAt: testTime}},
		{"sequence number", record(1)},
		{"128 digits", driver.Record{SequenceNumber: "9" + fmt.Sprintf("%0127d", 7), UpdatedAt: testTime}},
		{"leading zeros kept", driver.Record{SequenceNumber: "00012", UpdatedAt: testTime}},
		{"shard ended", driver.Record{SequenceNumber: seq(2), ShardEnded: true, UpdatedAt: testTime}},
		{"ended without records", driver.Record{ShardEnded: true, UpdatedAt: testTime}},
		{"binary state", driver.Record{SequenceNumber: seq(3), State: []byte{0, 1, 0xff, '"', '\\', 0}, UpdatedAt: testTime}},
		{"largest state", driver.Record{SequenceNumber: seq(4), State: big, UpdatedAt: testTime}},
		{"other time", driver.Record{SequenceNumber: seq(5), UpdatedAt: time.Date(2031, 12, 31, 23, 59, 59, 999_000_000, time.UTC)}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := driver.Key{Mapping: mapping, ShardID: fmt.Sprintf("shardId-%012d", i)}
			mustSave(t, d, key, tc.rec, 0)
			if got := mustLoad(t, d, key); !sameRecord(got, tc.rec) || got.Version != 1 {
				t.Errorf("got %s, want %s with Version 1", fmtRecord(got), fmtRecord(tc.rec))
			}
		})
	}
}

func testDriverDoesNotRetainState(t *testing.T, h Harness) {
	d := makeDriver(t, h)
	key := driver.Key{Mapping: newMapping(t), ShardID: "shardId-000000000000"}
	state := []byte("window-1")
	mustSave(t, d, key, driver.Record{SequenceNumber: seq(1), State: state, UpdatedAt: testTime}, 0)
	state[0] = 'X'
	got := mustLoad(t, d, key)
	if string(got.State) != "window-1" {
		t.Fatalf("after modifying the saved slice: got State %q, want %q", got.State, "window-1")
	}
	got.State[0] = 'Y'
	if again := mustLoad(t, d, key); string(again.State) != "window-1" {
		t.Errorf("after modifying a loaded slice: got State %q, want %q", again.State, "window-1")
	}
}

func testDriverList(t *testing.T, h Harness) {
	ctx := t.Context()
	d := makeDriver(t, h)
	mapping := newMapping(t)

	got, err := d.List(ctx, mapping)
	if err != nil || len(got) != 0 {
		t.Fatalf("List of an empty mapping: got %d entries, %v, want 0, nil", len(got), err)
	}

	want := map[string]driver.Record{}
	for i := range 3 {
		shard := fmt.Sprintf("shardId-%012d", i)
		rec := record(i)
		rec.ShardEnded = i == 0
		rec.State = []byte(shard)
		for v := range i + 1 { // shard i ends at Version i+1
			mustSave(t, d, driver.Key{Mapping: mapping, ShardID: shard}, rec, int64(v))
		}
		rec.Version = int64(i + 1)
		want[shard] = rec
	}
	// Same shard IDs under other mappings, one a prefix of this one and one
	// extending it, must not be listed.
	for _, other := range []string{mapping[:len(mapping)-1], mapping + "0"} {
		mustSave(t, d, driver.Key{Mapping: other, ShardID: "shardId-000000000000"}, record(9), 0)
	}

	got, err = d.List(ctx, mapping)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(got) != len(want) {
		t.Errorf("List: got %d entries, want %d", len(got), len(want))
	}
	for _, en := range got {
		w, ok := want[en.Key.ShardID]
		switch {
		case en.Key.Mapping != mapping || !ok:
			t.Errorf("List: got unexpected key %v", en.Key)
		case !sameRecord(en.Record, w) || en.Record.Version != w.Version:
			t.Errorf("List: %s: got %s, want %s", en.Key.ShardID, fmtRecord(en.Record), fmtRecord(w))
		}
		delete(want, en.Key.ShardID)
	}
	for shard := range want {
		t.Errorf("List: missing %s", shard)
	}
}

func testDriverDelete(t *testing.T, h Harness) {
	ctx := t.Context()
	d := makeDriver(t, h)
	key := driver.Key{Mapping: newMapping(t), ShardID: "shardId-000000000000"}
	if err := d.Delete(ctx, key); err != nil {
		t.Fatalf("Delete of a missing key: got %v, want nil", err)
	}
	mustSave(t, d, key, record(1), 0)
	mustSave(t, d, key, record(2), 1)
	if err := d.Delete(ctx, key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := d.Load(ctx, key); !d.IsNotFound(err) {
		t.Fatalf("Load after Delete: got %v, want not found", err)
	}
	if got, err := d.List(ctx, key.Mapping); err != nil || len(got) != 0 {
		t.Errorf("List after Delete: got %d entries, %v, want 0, nil", len(got), err)
	}
	if err := d.Save(ctx, key, record(3), 2); !d.IsConflict(err) {
		t.Errorf("Save with the deleted version: got %v, want a conflict", err)
	}
	mustSave(t, d, key, record(3), 0)
	if got := mustLoad(t, d, key); got.Version != 1 {
		t.Errorf("after re-create: got Version %d, want 1", got.Version)
	}
}

func testDriverClassifiesErrors(t *testing.T, h Harness) {
	d := makeDriver(t, h)
	for _, err := range []error{nil, errors.New("some other error"), context.Canceled} {
		if d.IsNotFound(err) || d.IsConflict(err) || d.IsRetryable(err) {
			t.Errorf("IsNotFound, IsConflict, IsRetryable(%v) = %v, %v, %v, want all false",
				err, d.IsNotFound(err), d.IsConflict(err), d.IsRetryable(err))
		}
	}
}

func testDriverSharedBackend(t *testing.T, h Harness) {
	a, b := makeDriver(t, h), makeDriver(t, h)
	key := driver.Key{Mapping: newMapping(t), ShardID: "shardId-000000000000"}
	mustSave(t, a, key, record(1), 0)
	if got := mustLoad(t, b, key); got.Version != 1 || !sameRecord(got, record(1)) {
		t.Fatalf("other Store: got %s, want %s with Version 1", fmtRecord(got), fmtRecord(record(1)))
	}
	mustSave(t, b, key, record(2), 1)
	if err := a.Save(t.Context(), key, record(3), 1); !a.IsConflict(err) {
		t.Fatalf("Save based on a stale version: got %v, want a conflict", err)
	}
}

func testDriverConcurrentSavers(t *testing.T, h Harness) {
	ds := []driver.Store{makeDriver(t, h), makeDriver(t, h)}
	key := driver.Key{Mapping: newMapping(t), ShardID: "shardId-000000000000"}
	const savers = 16
	for prev := int64(0); prev < 4; prev++ {
		var wins atomic.Int64
		var winner atomic.Int64
		var wg sync.WaitGroup
		for i := range savers {
			wg.Go(func() {
				d := ds[i%len(ds)]
				err := d.Save(t.Context(), key, record(i), prev)
				switch {
				case err == nil:
					wins.Add(1)
					winner.Store(int64(i))
				case !d.IsConflict(err):
					t.Errorf("Save: got %v, want nil or a conflict", err)
				}
			})
		}
		wg.Wait()
		if n := wins.Load(); n != 1 {
			t.Fatalf("prevVersion %d: %d of %d concurrent Saves succeeded, want exactly 1", prev, n, savers)
		}
		want := record(int(winner.Load()))
		if got := mustLoad(t, ds[0], key); got.Version != prev+1 || !sameRecord(got, want) {
			t.Fatalf("prevVersion %d: got %s, want the winner's %s with Version %d", prev, fmtRecord(got), fmtRecord(want), prev+1)
		}
	}
}

// cpString formats the fields of a Checkpoint the tests compare.
func cpString(cp checkpoint.Checkpoint) string {
	return fmt.Sprintf("{Seq:%q Ended:%v State:%q}", cp.SequenceNumber, cp.ShardEnded, cp.State)
}

func sameCheckpoint(got, want checkpoint.Checkpoint) bool {
	return got.SequenceNumber == want.SequenceNumber && got.ShardEnded == want.ShardEnded && bytes.Equal(got.State, want.State)
}

func mustLoadCP(t *testing.T, st *checkpoint.Store, key checkpoint.Key) checkpoint.Checkpoint {
	t.Helper()
	cp, found, err := st.Load(t.Context(), key)
	if err != nil || !found {
		t.Fatalf("Load(%v): got found %v, %v, want true, nil", key, found, err)
	}
	return cp
}

func mustSaveCP(t *testing.T, st *checkpoint.Store, key checkpoint.Key, cp checkpoint.Checkpoint) {
	t.Helper()
	if err := st.Save(t.Context(), key, cp); err != nil {
		t.Fatalf("Save(%v, %s): %v", key, cpString(cp), err)
	}
}

func testStoreNotFound(t *testing.T, h Harness) {
	st := makeStore(t, h)
	cp, found, err := st.Load(t.Context(), checkpoint.Key{Mapping: newMapping(t), ShardID: "shardId-000000000000"})
	if err != nil || found || !sameCheckpoint(cp, checkpoint.Checkpoint{}) || !cp.UpdatedAt.IsZero() {
		t.Errorf("Load of a missing key: got %s, %v, %v, want a zero Checkpoint, false, nil", cpString(cp), found, err)
	}
}

func testStoreRoundTrip(t *testing.T, h Harness) {
	st := makeStore(t, h)
	key := checkpoint.Key{Mapping: newMapping(t), ShardID: "shardId-000000000000"}
	state := []byte{0, 1, 2, 0xff}
	before := time.Now().Add(-time.Second)
	mustSaveCP(t, st, key, checkpoint.Checkpoint{SequenceNumber: seq(7), State: state})
	state[0] = 9 // Save must have copied it

	for _, s := range []*checkpoint.Store{st, makeStore(t, h)} {
		got := mustLoadCP(t, s, key)
		want := checkpoint.Checkpoint{SequenceNumber: seq(7), State: []byte{0, 1, 2, 0xff}}
		if !sameCheckpoint(got, want) {
			t.Errorf("got %s, want %s", cpString(got), cpString(want))
		}
		if got.UpdatedAt.Before(before) || got.UpdatedAt.Location() != time.UTC {
			t.Errorf("got UpdatedAt %v, want a UTC time after %v", got.UpdatedAt, before)
		}
	}
}

func testStoreNeverBackwards(t *testing.T, h Harness) {
	type cp = checkpoint.Checkpoint
	tests := []struct {
		name  string
		saves []cp
		want  cp
	}{
		{"advances", []cp{{SequenceNumber: seq(1)}, {SequenceNumber: seq(2)}}, cp{SequenceNumber: seq(2)}},
		{"lower is a no-op", []cp{{SequenceNumber: seq(2)}, {SequenceNumber: seq(1)}}, cp{SequenceNumber: seq(2)}},
		{"empty is lowest", []cp{{SequenceNumber: seq(2)}, {}}, cp{SequenceNumber: seq(2)}},
		{"shorter number is lower", []cp{{SequenceNumber: "100"}, {SequenceNumber: "99"}}, cp{SequenceNumber: "100"}},
		{"lower keeps state", []cp{{SequenceNumber: seq(2), State: []byte("a")}, {SequenceNumber: seq(1), State: []byte("b")}}, cp{SequenceNumber: seq(2), State: []byte("a")}},
		{"equal with new state", []cp{{SequenceNumber: seq(2), State: []byte("a")}, {SequenceNumber: seq(2), State: []byte("b")}}, cp{SequenceNumber: seq(2), State: []byte("b")}},
		{"equal clears state", []cp{{SequenceNumber: seq(2), State: []byte("a")}, {SequenceNumber: seq(2)}}, cp{SequenceNumber: seq(2)}},
		{"equal ends shard", []cp{{SequenceNumber: seq(2)}, {SequenceNumber: seq(2), ShardEnded: true}}, cp{SequenceNumber: seq(2), ShardEnded: true}},
		{"ended is sticky at equal", []cp{{SequenceNumber: seq(2), ShardEnded: true}, {SequenceNumber: seq(2)}}, cp{SequenceNumber: seq(2), ShardEnded: true}},
		{"ended is sticky at higher", []cp{{SequenceNumber: seq(2), ShardEnded: true}, {SequenceNumber: seq(3)}}, cp{SequenceNumber: seq(3), ShardEnded: true}},
		{"lower ended is a no-op", []cp{{SequenceNumber: seq(2)}, {SequenceNumber: seq(1), ShardEnded: true}}, cp{SequenceNumber: seq(2)}},
		{"ended without records", []cp{{ShardEnded: true}}, cp{ShardEnded: true}},
	}
	st := makeStore(t, h)
	mapping := newMapping(t)
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := checkpoint.Key{Mapping: mapping, ShardID: fmt.Sprintf("shardId-%012d", i)}
			for _, c := range tc.saves {
				mustSaveCP(t, st, key, c)
			}
			if got := mustLoadCP(t, st, key); !sameCheckpoint(got, tc.want) {
				t.Errorf("got %s, want %s", cpString(got), cpString(tc.want))
			}
			// A Store that has not seen the key reads what was written.
			if got := mustLoadCP(t, makeStore(t, h), key); !sameCheckpoint(got, tc.want) {
				t.Errorf("another Store: got %s, want %s", cpString(got), cpString(tc.want))
			}
		})
	}
}

func testStoreNeverBackwardsAcrossStores(t *testing.T, h Harness) {
	a, b := makeStore(t, h), makeStore(t, h)
	key := checkpoint.Key{Mapping: newMapping(t), ShardID: "shardId-000000000000"}
	mustSaveCP(t, a, key, checkpoint.Checkpoint{SequenceNumber: seq(5)})
	// b has never seen key: its lower Save must not win.
	mustSaveCP(t, b, key, checkpoint.Checkpoint{SequenceNumber: seq(3)})
	// Each Store decides from what it saw last; a write based on a stale
	// version goes through a conflict and a reload.
	mustSaveCP(t, b, key, checkpoint.Checkpoint{SequenceNumber: seq(6), State: []byte("b")})
	mustSaveCP(t, a, key, checkpoint.Checkpoint{SequenceNumber: seq(4)})
	mustSaveCP(t, a, key, checkpoint.Checkpoint{SequenceNumber: seq(6), ShardEnded: true, State: []byte("b")})
	mustSaveCP(t, b, key, checkpoint.Checkpoint{SequenceNumber: seq(6), State: []byte("b")}) // ShardEnded stays
	mustSaveCP(t, b, key, checkpoint.Checkpoint{SequenceNumber: seq(5), State: []byte("x")})
	want := checkpoint.Checkpoint{SequenceNumber: seq(6), ShardEnded: true, State: []byte("b")}
	for name, s := range map[string]*checkpoint.Store{"a": a, "b": b, "fresh": makeStore(t, h)} {
		if got := mustLoadCP(t, s, key); !sameCheckpoint(got, want) {
			t.Errorf("Store %s: got %s, want %s", name, cpString(got), cpString(want))
		}
	}
}

// saveShuffled saves seq(first), seq(first+step), … below n in a random
// order, from one goroutine.
func saveShuffled(t *testing.T, st *checkpoint.Store, key checkpoint.Key, first, step, n int) {
	var ns []int
	for i := first; i < n; i += step {
		ns = append(ns, i)
	}
	rand.Shuffle(len(ns), func(i, j int) { ns[i], ns[j] = ns[j], ns[i] })
	for _, i := range ns {
		if err := st.Save(t.Context(), key, checkpoint.Checkpoint{SequenceNumber: seq(i)}); err != nil {
			t.Errorf("Save(%d): %v", i, err)
		}
	}
}

func testStoreConcurrentSave(t *testing.T, h Harness) {
	st := makeStore(t, h)
	key := checkpoint.Key{Mapping: newMapping(t), ShardID: "shardId-000000000000"}
	const goroutines, n = 16, 320
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() { saveShuffled(t, st, key, g, goroutines, n) })
	}
	wg.Wait()
	want := checkpoint.Checkpoint{SequenceNumber: seq(n - 1)}
	for name, s := range map[string]*checkpoint.Store{"same": st, "fresh": makeStore(t, h)} {
		if got := mustLoadCP(t, s, key); !sameCheckpoint(got, want) {
			t.Errorf("%s Store: got %s, want the maximum %s", name, cpString(got), cpString(want))
		}
	}
}

func testStoreConcurrentStores(t *testing.T, h Harness) {
	key := checkpoint.Key{Mapping: newMapping(t), ShardID: "shardId-000000000000"}
	const stores, perStore, n = 4, 2, 160
	var wg sync.WaitGroup
	for i := range stores {
		st := makeStore(t, h)
		for j := range perStore {
			g := i*perStore + j
			wg.Go(func() { saveShuffled(t, st, key, g, stores*perStore, n) })
		}
	}
	wg.Wait()
	want := checkpoint.Checkpoint{SequenceNumber: seq(n - 1)}
	if got := mustLoadCP(t, makeStore(t, h), key); !sameCheckpoint(got, want) {
		t.Errorf("got %s, want the maximum %s", cpString(got), cpString(want))
	}
}

func testStoreFlush(t *testing.T, h Harness) {
	ctx := t.Context()
	st := makeStore(t, h, checkpoint.FlushInterval(time.Hour))
	other := makeDriver(t, h) // sees only what was written
	mapping := newMapping(t)
	key := checkpoint.Key{Mapping: mapping, ShardID: "shardId-000000000000"}
	dk := driver.Key(key)

	mustSaveCP(t, st, key, checkpoint.Checkpoint{SequenceNumber: seq(1)}) // first write of the key: at once
	mustSaveCP(t, st, key, checkpoint.Checkpoint{SequenceNumber: seq(2)})
	mustSaveCP(t, st, key, checkpoint.Checkpoint{SequenceNumber: seq(3), State: []byte("w")})
	if got := mustLoad(t, other, dk); got.SequenceNumber != seq(1) || got.Version != 1 {
		t.Fatalf("stored before Flush: got %s, want %s with Version 1", fmtRecord(got), seq(1))
	}
	want := checkpoint.Checkpoint{SequenceNumber: seq(3), State: []byte("w")}
	if got := mustLoadCP(t, st, key); !sameCheckpoint(got, want) {
		t.Errorf("Load before Flush: got %s, want the unflushed %s", cpString(got), cpString(want))
	}
	if got, err := st.List(ctx, mapping); err != nil || !sameCheckpoint(got[key.ShardID], want) {
		t.Errorf("List before Flush: got %s, %v, want the unflushed %s", cpString(got[key.ShardID]), err, cpString(want))
	}

	if err := st.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if got := mustLoad(t, other, dk); got.SequenceNumber != seq(3) || string(got.State) != "w" || got.Version != 2 {
		t.Fatalf("stored after Flush: got %s, want %s with Version 2", fmtRecord(got), cpString(want))
	}
	if err := st.Flush(ctx); err != nil {
		t.Fatalf("second Flush: %v", err)
	}
	if got := mustLoad(t, other, dk); got.Version != 2 {
		t.Errorf("second Flush wrote again: got Version %d, want 2", got.Version)
	}

	// ShardEnded writes through, although the interval has not passed.
	mustSaveCP(t, st, key, checkpoint.Checkpoint{SequenceNumber: seq(4), ShardEnded: true})
	if got := mustLoad(t, other, dk); got.SequenceNumber != seq(4) || !got.ShardEnded {
		t.Errorf("stored after ShardEnded: got %s, want %s ended", fmtRecord(got), seq(4))
	}

	// Close writes what is dirty.
	key2 := checkpoint.Key{Mapping: mapping, ShardID: "shardId-000000000001"}
	mustSaveCP(t, st, key2, checkpoint.Checkpoint{SequenceNumber: seq(1)})
	mustSaveCP(t, st, key2, checkpoint.Checkpoint{SequenceNumber: seq(9)})
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := mustLoad(t, other, driver.Key(key2)); got.SequenceNumber != seq(9) {
		t.Errorf("stored after Close: got %s, want %s", fmtRecord(got), seq(9))
	}
}

func testStoreList(t *testing.T, h Harness) {
	ctx := t.Context()
	st := makeStore(t, h, checkpoint.FlushInterval(time.Hour))
	mapping := newMapping(t)
	got, err := st.List(ctx, mapping)
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("List of an empty mapping: got %v, %v, want an empty map, nil", got, err)
	}
	want := map[string]checkpoint.Checkpoint{
		"shardId-000000000000": {SequenceNumber: seq(10), ShardEnded: true},
		"shardId-000000000001": {SequenceNumber: seq(20)},
		"shardId-000000000002": {SequenceNumber: seq(30)}, // dirty: 29 written, 30 not
	}
	mustSaveCP(t, st, checkpoint.Key{Mapping: mapping, ShardID: "shardId-000000000000"}, want["shardId-000000000000"])
	mustSaveCP(t, st, checkpoint.Key{Mapping: mapping, ShardID: "shardId-000000000001"}, want["shardId-000000000001"])
	mustSaveCP(t, st, checkpoint.Key{Mapping: mapping, ShardID: "shardId-000000000002"}, checkpoint.Checkpoint{SequenceNumber: seq(29)})
	mustSaveCP(t, st, checkpoint.Key{Mapping: mapping, ShardID: "shardId-000000000002"}, want["shardId-000000000002"])
	mustSaveCP(t, st, checkpoint.Key{Mapping: mapping + "-other", ShardID: "shardId-000000000003"}, checkpoint.Checkpoint{SequenceNumber: seq(1)})

	got, err = st.List(ctx, mapping)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	shards := slices.Sorted(func(yield func(string) bool) {
		for s := range got {
			if !yield(s) {
				return
			}
		}
	})
	if len(got) != len(want) {
		t.Errorf("List: got shards %q, want 3", shards)
	}
	for shard, w := range want {
		if g, ok := got[shard]; !ok || !sameCheckpoint(g, w) {
			t.Errorf("List: %s: got %s (present %v), want %s", shard, cpString(g), ok, cpString(w))
		}
	}
}

func testStoreDelete(t *testing.T, h Harness) {
	ctx := t.Context()
	st := makeStore(t, h)
	key := checkpoint.Key{Mapping: newMapping(t), ShardID: "shardId-000000000000"}
	if err := st.Delete(ctx, key); err != nil {
		t.Fatalf("Delete of a missing key: %v", err)
	}
	mustSaveCP(t, st, key, checkpoint.Checkpoint{SequenceNumber: seq(5), ShardEnded: true})
	if err := st.Delete(ctx, key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, found, err := st.Load(ctx, key); found || err != nil {
		t.Fatalf("Load after Delete: got found %v, %v, want false, nil", found, err)
	}
	mustSaveCP(t, st, key, checkpoint.Checkpoint{SequenceNumber: seq(1)})
	want := checkpoint.Checkpoint{SequenceNumber: seq(1)}
	for name, s := range map[string]*checkpoint.Store{"same": st, "fresh": makeStore(t, h)} {
		if got := mustLoadCP(t, s, key); !sameCheckpoint(got, want) {
			t.Errorf("%s Store after Delete and Save: got %s, want %s", name, cpString(got), cpString(want))
		}
	}
}

func testStoreClose(t *testing.T, h Harness) {
	ctx := t.Context()
	st := makeStore(t, h)
	key := checkpoint.Key{Mapping: newMapping(t), ShardID: "shardId-000000000000"}
	mustSaveCP(t, st, key, checkpoint.Checkpoint{SequenceNumber: seq(1)})
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Errorf("second Close: got %v, want nil", err)
	}
	calls := map[string]error{
		"Save":   st.Save(ctx, key, checkpoint.Checkpoint{SequenceNumber: seq(2)}),
		"Flush":  st.Flush(ctx),
		"Delete": st.Delete(ctx, key),
	}
	_, _, calls["Load"] = st.Load(ctx, key)
	_, calls["List"] = st.List(ctx, key.Mapping)
	for name, err := range calls {
		if !errors.Is(err, checkpoint.ErrClosed) {
			t.Errorf("%s after Close: got %v, want ErrClosed", name, err)
		}
	}
	if got := mustLoadCP(t, makeStore(t, h), key); got.SequenceNumber != seq(1) {
		t.Errorf("after Close: got %s, want %s", cpString(got), seq(1))
	}
}

func testDriverCanceledContext(t *testing.T, h Harness) {
	d := makeDriver(t, h)
	key := driver.Key{Mapping: newMapping(t), ShardID: "shardId-000000000000"}
	mustSave(t, d, key, record(1), 0)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, loadErr := d.Load(ctx, key)
	_, listErr := d.List(ctx, key.Mapping)
	for name, err := range map[string]error{
		"Load":   loadErr,
		"Save":   d.Save(ctx, key, record(2), 1),
		"List":   listErr,
		"Delete": d.Delete(ctx, key),
	} {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context: got %v, want an error wrapping context.Canceled", name, err)
		}
	}
	if got := mustLoad(t, d, key); got.Version != 1 || !sameRecord(got, record(1)) {
		t.Errorf("after canceled calls: got %s, want %s with Version 1", fmtRecord(got), fmtRecord(record(1)))
	}
}
