// Package backoff computes jittered exponential delays.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff yields delays that double from Initial up to Max, each drawn
// uniformly from [d/2, d] so that many shards backing off at once spread out
// while the delay still grows. The zero value is not usable; set Initial and Max.
// A Backoff is not safe for concurrent use.
type Backoff struct {
	Initial time.Duration
	Max     time.Duration

	attempt int
}

// Next returns the delay before the next attempt and advances the sequence.
func (b *Backoff) Next() time.Duration {
	d := b.Initial
	for i := 0; i < b.attempt && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	b.attempt++
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// Reset starts the sequence again at Initial.
func (b *Backoff) Reset() { b.attempt = 0 }

// Attempts returns how many delays Next has handed out since the last Reset.
func (b *Backoff) Attempts() int { return b.attempt }

// Sleep waits for d or until ctx is done, returning ctx.Err() in that case.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
