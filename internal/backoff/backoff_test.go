package backoff_test

import (
	"testing"
	"time"

	"github.com/esmkit/esmkit/internal/backoff"
)

func TestNextBounds(t *testing.T) {
	b := backoff.Backoff{Initial: 100 * time.Millisecond, Max: time.Second}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		w *= time.Millisecond
		got := b.Next()
		if got < w/2 || got > w {
			t.Errorf("attempt %d: got %v, want in [%v, %v]", i, got, w/2, w)
		}
	}
	b.Reset()
	if got := b.Next(); got > 100*time.Millisecond {
		t.Errorf("after Reset: got %v, want <= 100ms", got)
	}
}
