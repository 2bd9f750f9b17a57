package checkpoint_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/esmkit/esmkit/checkpoint"
	"github.com/esmkit/esmkit/checkpoint/driver"
)

var key0 = checkpoint.Key{Mapping: "m", ShardID: "shardId-000000000000"}

func seq(n int) string { return fmt.Sprintf("4959%052d", n) }

func newStore(t *testing.T, d driver.Store, opts ...checkpoint.Option) *checkpoint.Store {
	t.Helper()
	st, err := checkpoint.New(d, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return st
}

// stored reads key from the backend, bypassing the Store.
func stored(t *testing.T, f *fakeDriver, key checkpoint.Key) driver.Record {
	t.Helper()
	rec, err := f.Store.Load(context.Background(), driver.Key(key))
	if err != nil {
		t.Fatalf("backend Load: %v", err)
	}
	return rec
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		d       driver.Store
		opts    []checkpoint.Option
		wantErr string // "" for success
	}{
		{name: "defaults", d: newFake()},
		{name: "flush interval", d: newFake(), opts: []checkpoint.Option{checkpoint.FlushInterval(time.Second)}},
		{name: "zero flush interval", d: newFake(), opts: []checkpoint.Option{checkpoint.FlushInterval(0)}},
		{name: "nil driver", d: nil, wantErr: "checkpoint: invalid option: driver is nil"},
		{name: "negative interval", d: newFake(), opts: []checkpoint.Option{checkpoint.FlushInterval(-time.Second)}, wantErr: "checkpoint: invalid option: FlushInterval -1s is negative"},
		{name: "nil option", d: newFake(), opts: []checkpoint.Option{nil}, wantErr: "checkpoint: invalid option: nil Option"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := checkpoint.New(tc.d, tc.opts...)
			if tc.wantErr == "" {
				if err != nil || st == nil {
					t.Fatalf("got %v, %v, want a Store, nil", st, err)
				}
				return
			}
			if !errors.Is(err, checkpoint.ErrInvalidOption) || err.Error() != tc.wantErr || st != nil {
				t.Errorf("got %v, %q, want nil, %q", st, err, tc.wantErr)
			}
		})
	}
}

func TestValidation(t *testing.T) {
	tests := []struct {
		name string
		key  checkpoint.Key
		cp   checkpoint.Checkpoint
		want error
	}{
		{name: "empty mapping", key: checkpoint.Key{ShardID: "s"}, want: checkpoint.ErrInvalidKey},
		{name: "empty shard", key: checkpoint.Key{Mapping: "m"}, want: checkpoint.ErrInvalidKey},
		{name: "bad UTF-8", key: checkpoint.Key{Mapping: "m\xff", ShardID: "s"}, want: checkpoint.ErrInvalidKey},
		{name: "letters", key: key0, cp: checkpoint.Checkpoint{SequenceNumber: "12a"}, want: checkpoint.ErrInvalidCheckpoint},
		{name: "sign", key: key0, cp: checkpoint.Checkpoint{SequenceNumber: "-1"}, want: checkpoint.ErrInvalidCheckpoint},
		{name: "129 digits", key: key0, cp: checkpoint.Checkpoint{SequenceNumber: strings.Repeat("1", 129)}, want: checkpoint.ErrInvalidCheckpoint},
		{name: "128 digits", key: key0, cp: checkpoint.Checkpoint{SequenceNumber: strings.Repeat("1", 128)}},
		{name: "empty sequence number", key: key0, cp: checkpoint.Checkpoint{ShardEnded: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			st := newStore(t, f)
			if err := st.Save(t.Context(), tc.key, tc.cp); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Errorf("Save: got %v, want %v", err, tc.want)
			}
			if tc.want == checkpoint.ErrInvalidKey {
				if _, _, err := st.Load(t.Context(), tc.key); !errors.Is(err, tc.want) {
					t.Errorf("Load: got %v, want %v", err, tc.want)
				}
				if err := st.Delete(t.Context(), tc.key); !errors.Is(err, tc.want) {
					t.Errorf("Delete: got %v, want %v", err, tc.want)
				}
				if tc.key.Mapping != "m" {
					if _, err := st.List(t.Context(), tc.key.Mapping); !errors.Is(err, tc.want) {
						t.Errorf("List: got %v, want %v", err, tc.want)
					}
				}
			}
			if tc.want != nil && f.count("load")+f.count("save")+f.count("delete")+f.count("list") != 0 {
				t.Errorf("invalid input reached the driver: %v", f.calls)
			}
		})
	}
}

func TestRetry(t *testing.T) {
	tests := []struct {
		name      string
		op        string // operation whose faults are scripted
		faults    []error
		wantErr   error // matched with errors.Is; nil for success
		wantMsg   string
		wantCalls int // calls of op
	}{
		{name: "save succeeds", op: "save", wantCalls: 1},
		{name: "save retries throttling", op: "save", faults: []error{errThrottled, errThrottled}, wantCalls: 3},
		{name: "save gives up after 5 attempts", op: "save", faults: []error{errThrottled, errThrottled, errThrottled, errThrottled, errThrottled, errThrottled},
			wantErr: errThrottled, wantMsg: "checkpoint: save shardId-000000000000: fake: throttled", wantCalls: 5},
		{name: "save does not retry others", op: "save", faults: []error{errBroken}, wantErr: errBroken,
			wantMsg: "checkpoint: save shardId-000000000000: fake: broken", wantCalls: 1},
		// The retry of an applied Save conflicts; the reload finds the
		// value written, so there is nothing left to do.
		{name: "save applied then throttled", op: "save", faults: []error{errLateThrottle}, wantCalls: 2},
		{name: "load retries throttling", op: "load", faults: []error{errThrottled}, wantCalls: 2},
		{name: "load gives up", op: "load", faults: []error{errBroken}, wantErr: errBroken,
			wantMsg: "checkpoint: save shardId-000000000000: fake: broken", wantCalls: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFake()
				st := newStore(t, f)
				f.fail(tc.op, tc.faults...)
				err := st.Save(t.Context(), key0, checkpoint.Checkpoint{SequenceNumber: seq(1)})
				if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
					t.Fatalf("got %v, want %v", err, tc.wantErr)
				}
				if err != nil && err.Error() != tc.wantMsg {
					t.Errorf("got message %q, want %q", err, tc.wantMsg)
				}
				if got := f.count(tc.op); got != tc.wantCalls {
					t.Errorf("got %d %s calls, want %d", got, tc.op, tc.wantCalls)
				}
				if tc.wantErr == nil {
					if rec := stored(t, f, key0); rec.SequenceNumber != seq(1) || rec.Version != 1 {
						t.Errorf("stored %q version %d, want %q version 1", rec.SequenceNumber, rec.Version, seq(1))
					}
				}
			})
		})
	}
}

func TestRetryOtherOperations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		st := newStore(t, f)
		ctx := t.Context()
		f.fail("list", errThrottled)
		f.fail("delete", errThrottled)
		if _, err := st.List(ctx, "m"); err != nil {
			t.Errorf("List: %v", err)
		}
		if err := st.Delete(ctx, key0); err != nil {
			t.Errorf("Delete: %v", err)
		}
		if l, d := f.count("list"), f.count("delete"); l != 2 || d != 2 {
			t.Errorf("got %d List and %d Delete calls, want 2 and 2", l, d)
		}
		f.fail("list", errBroken)
		if _, err := st.List(ctx, "m"); !errors.Is(err, errBroken) || err.Error() != "checkpoint: list m: fake: broken" {
			t.Errorf("List: got %v, want the wrapped errBroken", err)
		}
		f.fail("delete", errBroken)
		if err := st.Delete(ctx, key0); !errors.Is(err, errBroken) || err.Error() != "checkpoint: delete shardId-000000000000: fake: broken" {
			t.Errorf("Delete: got %v, want the wrapped errBroken", err)
		}
	})
}

func TestContextErrorsUnwrapped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		st := newStore(t, f)
		// Always throttled: the backoff outlasts the deadline.
		f.fail("save", errThrottled, errThrottled, errThrottled, errThrottled, errThrottled)
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
		defer cancel()
		if err := st.Save(ctx, key0, checkpoint.Checkpoint{SequenceNumber: seq(1)}); err != context.DeadlineExceeded {
			t.Errorf("Save: got %v, want context.DeadlineExceeded itself", err)
		}
		ctx, cancel = context.WithCancel(t.Context())
		cancel()
		if _, _, err := st.Load(ctx, key0); err != context.Canceled {
			t.Errorf("Load: got %v, want context.Canceled itself", err)
		}
		if _, err := st.List(ctx, "m"); err != context.Canceled {
			t.Errorf("List: got %v, want context.Canceled itself", err)
		}
		if err := st.Flush(ctx); err != context.Canceled {
			t.Errorf("Flush: got %v, want context.Canceled itself", err)
		}
	})
}

func TestConflictResolution(t *testing.T) {
	type cp = checkpoint.Checkpoint
	tests := []struct {
		name      string
		other     cp // written by another writer after the Store read seq(100)
		save      cp
		want      cp
		wantSaves int // Save calls by the Store
	}{
		{name: "other is ahead", other: cp{SequenceNumber: seq(200)}, save: cp{SequenceNumber: seq(150)},
			want: cp{SequenceNumber: seq(200)}, wantSaves: 1},
		{name: "ours is ahead", other: cp{SequenceNumber: seq(120)}, save: cp{SequenceNumber: seq(150)},
			want: cp{SequenceNumber: seq(150)}, wantSaves: 2},
		{name: "other ended the shard", other: cp{SequenceNumber: seq(150), ShardEnded: true}, save: cp{SequenceNumber: seq(150), State: []byte("w")},
			want: cp{SequenceNumber: seq(150), ShardEnded: true, State: []byte("w")}, wantSaves: 2},
		{name: "same value", other: cp{SequenceNumber: seq(150)}, save: cp{SequenceNumber: seq(150)},
			want: cp{SequenceNumber: seq(150)}, wantSaves: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			f := newFake()
			st := newStore(t, f)
			mustSave(t, st, key0, checkpoint.Checkpoint{SequenceNumber: seq(100)})
			other := driver.Record{SequenceNumber: tc.other.SequenceNumber, ShardEnded: tc.other.ShardEnded, State: tc.other.State}
			if err := f.Store.Save(ctx, driver.Key(key0), other, 1); err != nil {
				t.Fatal(err)
			}
			saves := f.count("save")
			mustSave(t, st, key0, tc.save)
			if got := f.count("save") - saves; got != tc.wantSaves {
				t.Errorf("got %d Save calls, want %d", got, tc.wantSaves)
			}
			rec := stored(t, f, key0)
			got := cp{SequenceNumber: rec.SequenceNumber, ShardEnded: rec.ShardEnded, State: rec.State}
			if !same(got, tc.want) {
				t.Errorf("stored %s, want %s", str(got), str(tc.want))
			}
		})
	}
}

func TestConflictGivesUp(t *testing.T) {
	ctx := t.Context()
	f := newFake()
	st := newStore(t, f)
	mustSave(t, st, key0, checkpoint.Checkpoint{SequenceNumber: seq(1)})
	// A writer that bumps the version before every Save of the Store, but
	// never catches up with it.
	f.beforeSave = func() {
		rec, err := f.Store.Load(ctx, driver.Key(key0))
		if err == nil {
			err = f.Store.Save(ctx, driver.Key(key0), rec, rec.Version)
		}
		if err != nil {
			t.Errorf("other writer: %v", err)
		}
	}
	saves := f.count("save")
	err := st.Save(ctx, key0, checkpoint.Checkpoint{SequenceNumber: seq(2)})
	if err == nil || !strings.HasPrefix(err.Error(), "checkpoint: save shardId-000000000000: memcheckpoint: version conflict") {
		t.Fatalf("got %v, want a wrapped conflict", err)
	}
	const want = 33 // the first attempt and 32 after conflicts
	if got := f.count("save") - saves; got != want {
		t.Errorf("got %d Save calls, want %d", got, want)
	}
	f.mu.Lock()
	f.beforeSave = nil // let Close write the value kept in memory
	f.mu.Unlock()
}

// TestCoalescing follows one key through Saves at fake times; each step
// says whether the Save is written.
func TestCoalescing(t *testing.T) {
	type step struct {
		at        time.Duration // since the start
		seq       int
		ended     bool
		flush     bool // call Flush instead of Save
		wantWrite bool
		wantSeq   int // stored afterwards
	}
	steps := []step{
		{at: 0, seq: 1, wantWrite: true, wantSeq: 1}, // first write
		{at: 100 * time.Millisecond, seq: 2, wantSeq: 1},
		{at: 999 * time.Millisecond, seq: 3, wantSeq: 1},
		{at: 1000 * time.Millisecond, seq: 4, wantWrite: true, wantSeq: 4}, // a second since the last write
		{at: 1500 * time.Millisecond, seq: 3, wantSeq: 4},                  // backwards: no-op
		{at: 1600 * time.Millisecond, seq: 5, wantSeq: 4},
		{at: 1700 * time.Millisecond, flush: true, wantWrite: true, wantSeq: 5},
		{at: 1800 * time.Millisecond, flush: true, wantSeq: 5}, // nothing dirty
		{at: 2000 * time.Millisecond, seq: 6, wantSeq: 5},
		{at: 3000 * time.Millisecond, seq: 5, wantWrite: true, wantSeq: 6}, // no-op Save, but 6 is due
		{at: 3100 * time.Millisecond, seq: 7, ended: true, wantWrite: true, wantSeq: 7},
	}
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		st := newStore(t, f, checkpoint.FlushInterval(time.Second))
		start := time.Now()
		for _, s := range steps {
			time.Sleep(time.Until(start.Add(s.at)))
			before := f.count("save")
			if s.flush {
				if err := st.Flush(t.Context()); err != nil {
					t.Fatalf("at %v: Flush: %v", s.at, err)
				}
			} else {
				mustSave(t, st, key0, checkpoint.Checkpoint{SequenceNumber: seq(s.seq), ShardEnded: s.ended})
			}
			if wrote := f.count("save") > before; wrote != s.wantWrite {
				t.Errorf("at %v: got write %v, want %v", s.at, wrote, s.wantWrite)
			}
			if got := stored(t, f, key0).SequenceNumber; got != seq(s.wantSeq) {
				t.Errorf("at %v: stored %s, want %s", s.at, got, seq(s.wantSeq))
			}
		}
	})
}

func TestSaveErrorKeepsValue(t *testing.T) {
	ctx := t.Context()
	f := newFake()
	st := newStore(t, f)
	mustSave(t, st, key0, checkpoint.Checkpoint{SequenceNumber: seq(1)})
	f.fail("save", errBroken)
	if err := st.Save(ctx, key0, checkpoint.Checkpoint{SequenceNumber: seq(2)}); !errors.Is(err, errBroken) {
		t.Fatalf("Save: got %v, want errBroken", err)
	}
	if cp, _, err := st.Load(ctx, key0); err != nil || cp.SequenceNumber != seq(2) {
		t.Errorf("Load: got %s, %v, want the unwritten %s", cp.SequenceNumber, err, seq(2))
	}
	f.fail("save", errBroken)
	if err := st.Flush(ctx); !errors.Is(err, errBroken) || !strings.HasPrefix(err.Error(), "checkpoint: save shardId-000000000000: ") {
		t.Errorf("Flush: got %v, want the wrapped errBroken", err)
	}
	if err := st.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if got := stored(t, f, key0).SequenceNumber; got != seq(2) {
		t.Errorf("stored %s, want %s", got, seq(2))
	}
}

func TestLoadRebasesDirtyValue(t *testing.T) {
	ctx := t.Context()
	f := newFake()
	st := newStore(t, f, checkpoint.FlushInterval(time.Hour))
	mustSave(t, st, key0, checkpoint.Checkpoint{SequenceNumber: seq(1)})
	mustSave(t, st, key0, checkpoint.Checkpoint{SequenceNumber: seq(5)}) // dirty
	// Another worker moves past the dirty value.
	if err := f.Store.Save(ctx, driver.Key(key0), driver.Record{SequenceNumber: seq(9)}, 1); err != nil {
		t.Fatal(err)
	}
	if cp, _, err := st.Load(ctx, key0); err != nil || cp.SequenceNumber != seq(9) {
		t.Fatalf("Load: got %s, %v, want the stored %s", cp.SequenceNumber, err, seq(9))
	}
	saves := f.count("save")
	if err := st.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.count("save") - saves; got != 0 {
		t.Errorf("Flush wrote %d times, want 0: the dirty value is behind", got)
	}
}

func TestClose(t *testing.T) {
	f := newFake()
	f.closeErr = errBroken
	st, err := checkpoint.New(f, checkpoint.FlushInterval(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	mustSave(t, st, key0, checkpoint.Checkpoint{SequenceNumber: seq(1)})
	mustSave(t, st, key0, checkpoint.Checkpoint{SequenceNumber: seq(2)})
	if err := st.Close(); !errors.Is(err, errBroken) || err.Error() != "checkpoint: close: fake: broken" {
		t.Errorf("Close: got %v, want the wrapped driver error", err)
	}
	if got := stored(t, f, key0).SequenceNumber; got != seq(2) {
		t.Errorf("stored %s, want %s written by Close", got, seq(2))
	}
	if err := st.Close(); err != nil {
		t.Errorf("second Close: got %v, want nil", err)
	}
	if n := f.count("close"); n != 1 {
		t.Errorf("driver closed %d times, want 1", n)
	}
	if err := st.Save(t.Context(), key0, checkpoint.Checkpoint{}); err != checkpoint.ErrClosed {
		t.Errorf("Save after Close: got %v, want ErrClosed", err)
	}
}

// TestCloseWaitsForCalls checks that Close does not close the driver while
// a Save is in a backoff, and that the Save finishes.
func TestCloseWaitsForCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		st, err := checkpoint.New(f)
		if err != nil {
			t.Fatal(err)
		}
		f.fail("save", errThrottled)
		done := make(chan error)
		go func() { done <- st.Save(context.Background(), key0, checkpoint.Checkpoint{SequenceNumber: seq(1)}) }()
		synctest.Wait() // the Save sleeps in its backoff
		closed := make(chan error)
		go func() { closed <- st.Close() }()
		synctest.Wait()
		if n := f.count("close"); n != 0 {
			t.Fatalf("driver closed during a Save")
		}
		if err := <-done; err != nil {
			t.Errorf("Save: %v", err)
		}
		if err := <-closed; err != nil {
			t.Errorf("Close: %v", err)
		}
		if got := stored(t, f, key0).SequenceNumber; got != seq(1) {
			t.Errorf("stored %s, want %s", got, seq(1))
		}
	})
}

func mustSave(t *testing.T, st *checkpoint.Store, key checkpoint.Key, cp checkpoint.Checkpoint) {
	t.Helper()
	if err := st.Save(t.Context(), key, cp); err != nil {
		t.Fatalf("Save(%s): %v", str(cp), err)
	}
}

func same(a, b checkpoint.Checkpoint) bool {
	return a.SequenceNumber == b.SequenceNumber && a.ShardEnded == b.ShardEnded && string(a.State) == string(b.State)
}

func str(cp checkpoint.Checkpoint) string {
	return fmt.Sprintf("{Seq:%q Ended:%v State:%q}", cp.SequenceNumber, cp.ShardEnded, cp.State)
}
