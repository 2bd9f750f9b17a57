package shard

import "context"

// Reader reads one shard, a page at a time, in sequence order: the records
// of successive pages never overlap and leave no gap. *Poller (GetRecords)
// and *Subscriber (enhanced fan-out) implement it, so a caller can read
// either way through one interface. A Reader is used by one goroutine.
type Reader interface {
	// Next blocks until the next page is available or ctx is done. After
	// a page with End set, Next returns End pages without I/O.
	Next(ctx context.Context) (Page, error)
}

var (
	_ Reader = (*Poller)(nil)
	_ Reader = (*Subscriber)(nil)
)
