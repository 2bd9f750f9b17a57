// Package checkpoint stores per-shard positions that never move backwards.
//
// A [Store] keeps one [Checkpoint] per [Key] — one shard of one mapping —
// in a backend chosen by its driver: checkpoint/memcheckpoint keeps them in
// memory, other drivers in a database. The Store is portable: it owns the
// policy below, and a driver (see checkpoint/driver) owns only I/O.
//
//	st, err := checkpoint.New(memcheckpoint.New(), checkpoint.FlushInterval(time.Second))
//
// # Never backwards
//
// A Save never moves a checkpoint backwards. A Save whose SequenceNumber is
// lower than the stored one changes nothing and returns nil, so late or
// duplicate Saves are harmless. ShardEnded is sticky: once true it stays true.
// A Save with the same SequenceNumber is written when it adds information —
// ShardEnded becoming true, or a different State (the last such Save wins).
// Only Delete resets a checkpoint.
//
// The rule holds across processes too. Every write is conditional on the
// version the Store last read; when another writer got there first, the
// Store reloads, applies the rule against the newer value and writes again
// only if its value is still ahead.
//
// # Coalescing
//
// By default every Save that changes the checkpoint is written at once. With
// [FlushInterval](d), a Save is written only if d has passed since that key
// was last written; otherwise the value is kept in memory ("dirty"), and a
// later Save, [Store.Flush] or [Store.Close] writes the latest one. A Save
// with ShardEnded true is always written at once, because child shards wait
// for it. The Store starts no goroutines, so nothing is written between
// calls: a caller that wants a bound on how old the stored value may be
// calls Flush on a ticker. Load and List include dirty values.
//
// # Errors and retries
//
// Transient driver errors are retried up to 5 attempts in all, with a
// jittered exponential backoff starting at 25ms that honours the context.
// Driver errors are then returned wrapped once, as
// "checkpoint: save shardId-000000000000: <driver error>", for use with
// errors.Is and errors.As. When the context is done, its error is returned
// unwrapped. Invalid input is reported with [ErrInvalidKey] and
// [ErrInvalidCheckpoint], and calls after Close with [ErrClosed].
//
// # Concurrency
//
// All methods of a Store are safe for concurrent use. Calls for one key are
// serialized; calls for different keys proceed in parallel. Several Stores,
// in one process or many, may share a backend and even a key: conditional
// writes keep the never-backwards rule, so the furthest position wins.
package checkpoint
