package retry_test

import (
	"errors"
	"testing"
	"time"

	"github.com/esmkit/esmkit/retry"
)

func TestValidate(t *testing.T) {
	s := time.Second
	tests := []struct {
		name    string
		p       retry.Policy
		wantErr string
	}{
		{"zero", retry.Policy{}, ""},
		{"default", retry.DefaultPolicy(), ""},
		{"7 attempts -1", retry.Policy{MaximumRetryAttempts: -1}, ""},
		{"7 attempts 0", retry.Policy{MaximumRetryAttempts: 0}, ""},
		{"7 attempts 10000", retry.Policy{MaximumRetryAttempts: 10000}, ""},
		{"7 attempts -2", retry.Policy{MaximumRetryAttempts: -2},
			"retry: invalid policy: MaximumRetryAttempts -2 not in [-1, 10000]"},
		{"7 attempts 10001", retry.Policy{MaximumRetryAttempts: 10001},
			"retry: invalid policy: MaximumRetryAttempts 10001 not in [-1, 10000]"},
		{"6 age -1", retry.Policy{MaximumRecordAge: -1}, ""},
		{"6 age -1s", retry.Policy{MaximumRecordAge: -s}, ""},
		{"6 age 0 is unlimited", retry.Policy{MaximumRecordAge: 0}, ""},
		{"6 age 60s", retry.Policy{MaximumRecordAge: 60 * s}, ""},
		{"6 age 604800s", retry.Policy{MaximumRecordAge: 604800 * s}, ""},
		{"6 age 30s", retry.Policy{MaximumRecordAge: 30 * s},
			"retry: invalid policy: MaximumRecordAge 30s not ≤ 0 (unlimited) or in [60s, 604800s]"},
		{"6 age 59.999s", retry.Policy{MaximumRecordAge: 60*s - time.Millisecond},
			"retry: invalid policy: MaximumRecordAge 59.999s not ≤ 0 (unlimited) or in [60s, 604800s]"},
		{"6 age 604801s", retry.Policy{MaximumRecordAge: 604801 * s},
			"retry: invalid policy: MaximumRecordAge 168h0m1s not ≤ 0 (unlimited) or in [60s, 604800s]"},
		{"backoff set", retry.Policy{RetryBackoff: retry.Backoff{Initial: 1, Max: 1}, ThrottleBackoff: retry.Backoff{Initial: s, Max: time.Hour}}, ""},
		{"backoff max below initial", retry.Policy{RetryBackoff: retry.Backoff{Initial: s, Max: 100 * time.Millisecond}},
			"retry: invalid policy: RetryBackoff {Initial:1s Max:100ms} needs 0 < Initial ≤ Max, or both 0 for the default"},
		{"backoff max only", retry.Policy{ThrottleBackoff: retry.Backoff{Max: s}},
			"retry: invalid policy: ThrottleBackoff {Initial:0s Max:1s} needs 0 < Initial ≤ Max, or both 0 for the default"},
		{"backoff negative", retry.Policy{ThrottleBackoff: retry.Backoff{Initial: -s, Max: s}},
			"retry: invalid policy: ThrottleBackoff {Initial:-1s Max:1s} needs 0 < Initial ≤ Max, or both 0 for the default"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("got %v, want %q", err, tc.wantErr)
			}
			if !errors.Is(err, retry.ErrInvalidPolicy) {
				t.Errorf("got %v, want it to match ErrInvalidPolicy", err)
			}
		})
	}
}

func TestDefaultPolicy(t *testing.T) {
	want := retry.Policy{
		MaximumRetryAttempts: -1,
		MaximumRecordAge:     -1,
		RetryBackoff:         retry.Backoff{Initial: 100 * time.Millisecond, Max: 5 * time.Second},
		ThrottleBackoff:      retry.Backoff{Initial: time.Second, Max: 30 * time.Second},
	}
	if got := retry.DefaultPolicy(); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// TestInvalidPolicyStillDecides checks the documented repairs of an invalid
// Policy: a negative MaximumRetryAttempts is unlimited and a bad Backoff
// does not give a busy loop.
func TestInvalidPolicyStillDecides(t *testing.T) {
	p := retry.Policy{
		MaximumRetryAttempts: -5,
		RetryBackoff:         retry.Backoff{Initial: -time.Second, Max: -time.Second},
		ThrottleBackoff:      retry.Backoff{Initial: time.Second, Max: time.Millisecond},
	}
	pl := retry.NewPlan(p, records(1, nil), constSource(0))
	now := t0
	for i := range 20 {
		a := pl.Next(now)
		if a.Kind == retry.Wait {
			now = now.Add(a.Delay)
			a = pl.Next(now)
		}
		if a.Kind != retry.Invoke || a.Attempt != i/2 {
			t.Fatalf("step %d: got %v attempt %d, want invoke attempt %d", i, a.Kind, a.Attempt, i/2)
		}
		o := retry.Throttled(nil)
		if i%2 == 1 {
			o = functionError(call{})
		}
		pl.Report(now, o)
		if w := pl.Next(now); w.Kind != retry.Wait || w.Delay < 50*time.Millisecond {
			t.Fatalf("step %d: got %v %v, want a wait of at least 50ms", i, w.Kind, w.Delay)
		}
	}
}
