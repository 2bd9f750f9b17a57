// Package memcheckpoint is an in-memory checkpoint driver.
//
// Use it for tests, examples and single-process programs that may replay
// records after a restart:
//
//	st, err := checkpoint.New(memcheckpoint.New())
//
// Checkpoints live as long as the *Store value. Several checkpoint.Stores
// may share one *Store to simulate workers sharing a table.
package memcheckpoint
