package driver

import (
	"context"
	"time"
)

// Key names one checkpoint: one shard of one mapping.
//
// Both fields are non-empty, valid UTF-8 strings when the portable type
// calls a driver; drivers need not check them again.
type Key struct {
	// Mapping identifies the event source mapping that owns the shard's
	// position. Checkpoints of different mappings never interfere, even
	// for the same ShardID.
	Mapping string
	// ShardID is the Kinesis shard ID, such as "shardId-000000000000".
	ShardID string
}

// Record is a stored checkpoint together with its version.
//
// Drivers store every field and return it unchanged: they do not compare
// sequence numbers, merge values or interpret State.
type Record struct {
	// SequenceNumber is the sequence number of the last finished record of
	// the shard, or "" when none has finished yet. It is a decimal string
	// of up to 128 digits; drivers store it as a string, never as a number.
	SequenceNumber string
	// ShardEnded reports that the shard was read to its end and every one
	// of its records is finished.
	ShardEnded bool
	// State is opaque to the driver (tumbling-window state). Drivers may
	// return nil for an empty State and must not retain the slice passed
	// to Save or hand out one they keep: the caller may modify it.
	State []byte
	// UpdatedAt is when the value was saved. The portable type passes a UTC
	// time truncated to the millisecond; drivers must return it Equal to
	// what was saved.
	UpdatedAt time.Time
	// Version is set by the driver and is ignored by Save. A stored record
	// has Version >= 1; a Save that succeeds stores prevVersion+1. Versions
	// therefore start at 1 and grow by one per successful Save of a key,
	// which is what lets several workers share one store safely: a write
	// based on a stale read fails instead of overwriting a newer value.
	// After Delete, versions start again at 1.
	Version int64
}

// Entry is one record returned by List.
type Entry struct {
	Key    Key
	Record Record
}

// Store is the interface a checkpoint driver implements.
//
// Each method performs one logical operation against the backend (List may
// need several requests to read every page). Methods do not retry and do not
// wrap errors: they return the backend's own error, and the portable type
// classifies it with IsNotFound, IsConflict and IsRetryable. Every method
// must honour ctx and must be safe for concurrent use by multiple
// goroutines, and by several Stores over the same backend (several workers
// sharing a table).
//
// The portable type never calls a method after Close.
type Store interface {
	// Load returns the stored record for key, with its Version.
	//
	// If nothing is stored for key, Load returns an error for which
	// IsNotFound reports true. Load reads the latest value: a Save that
	// returned before Load was called is visible to it (strongly consistent
	// reads, for backends that offer a choice).
	Load(ctx context.Context, key Key) (Record, error)

	// Save stores rec for key only if the stored version equals
	// prevVersion, atomically; prevVersion 0 means "only if nothing is
	// stored for key". On success the stored record has every field of rec
	// and Version prevVersion+1 (rec.Version is ignored).
	//
	// If the condition does not hold — the key exists and prevVersion is 0,
	// the key does not exist and prevVersion is not 0, or the stored
	// version differs — Save changes nothing and returns an error for
	// which IsConflict reports true. Of several concurrent Saves of one key
	// with the same prevVersion, exactly one succeeds.
	//
	// A Save that fails with a retryable error (a timeout, say) may or may
	// not have been applied. Retrying it with the same prevVersion is
	// safe: if the first attempt was applied, the retry reports a conflict.
	Save(ctx context.Context, key Key, rec Record, prevVersion int64) error

	// List returns every record stored for mapping, in any order. It
	// returns an empty slice and a nil error when there are none. Records
	// of other mappings are never returned, even when one mapping's name
	// is a prefix of another's.
	//
	// List need not be atomic across keys, but each returned record must
	// be one that was stored at some point, with its matching Version.
	List(ctx context.Context, mapping string) ([]Entry, error)

	// Delete removes the record for key, whatever its version. Deleting a
	// key that is not stored returns nil.
	Delete(ctx context.Context, key Key) error

	// IsNotFound reports whether err, returned by Load, means that nothing
	// is stored for the key. It returns false for nil.
	IsNotFound(err error) bool

	// IsConflict reports whether err, returned by Save, means that the
	// stored version did not equal prevVersion. It returns false for nil.
	IsConflict(err error) bool

	// IsRetryable reports whether err is transient (throttling, a timeout,
	// a 5xx response) so that the same call may succeed if repeated. The
	// portable type retries such errors with a bounded, jittered backoff.
	// It returns false for nil, for IsNotFound and for IsConflict errors.
	IsRetryable(err error) bool

	// Close releases the driver's resources. It does not close clients the
	// user passed to the driver's constructor. The portable type calls it
	// once.
	Close() error
}
