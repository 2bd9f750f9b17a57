package window_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/esmkit/esmkit/window"
)

func TestFor(t *testing.T) {
	epoch := time.Unix(0, 0).UTC()
	tokyo := time.FixedZone("JST", 9*3600)
	for _, tc := range []struct {
		name    string
		arrival time.Time
		size    time.Duration
		start   time.Time
	}{
		{"spec example", time.Unix(1607497475, 0), 120 * time.Second, t0},
		{"at start", t0, 120 * time.Second, t0},
		{"just before end", at(120*time.Second - time.Nanosecond), 120 * time.Second, t0},
		{"at end is next window", at(120 * time.Second), 120 * time.Second, at(120 * time.Second)},
		{"fraction of a second", time.Unix(1607497475, 987_000_000), 120 * time.Second, t0},
		{"1 s", time.Unix(1607497475, 987_000_000), time.Second, time.Unix(1607497475, 0).UTC()},
		{"900 s", at(10*time.Minute + 59*time.Second), 900 * time.Second, t0.Add(-4 * time.Minute)},
		// 7 s does not divide a day: aligned on the Unix epoch, not on
		// midnight or on year 1 (time.Truncate's origin).
		{"7 s epoch aligned", time.Unix(1607497475, 0), 7 * time.Second, time.Unix(1607497475/7*7, 0).UTC()},
		{"epoch", epoch, time.Minute, epoch},
		{"before epoch", epoch.Add(-time.Nanosecond), time.Minute, epoch.Add(-time.Minute)},
		{"before epoch, 7 s", time.Unix(-1, 0), 7 * time.Second, time.Unix(-7, 0).UTC()},
		{"other zone gives UTC", t0.Add(30 * time.Second).In(tokyo), 120 * time.Second, t0},
		{"sub-second size", epoch.Add(1234 * time.Millisecond), 500 * time.Millisecond, epoch.Add(time.Second)},
		{"sub-second size before epoch", epoch.Add(-time.Millisecond), 500 * time.Millisecond, epoch.Add(-500 * time.Millisecond)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := window.For(tc.arrival, tc.size)
			want := window.Window{Start: tc.start, End: tc.start.Add(tc.size)}
			if w != want {
				t.Errorf("got %v, want %v", w, want)
			}
			if !w.Contains(tc.arrival) {
				t.Errorf("%v does not contain %v", w, tc.arrival)
			}
			if w.Start.Location() != time.UTC {
				t.Errorf("got location %v, want UTC", w.Start.Location())
			}
		})
	}
	if w := window.For(t0, 0); !w.IsZero() {
		t.Errorf("For(t, 0): got %v, want the zero Window", w)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  window.Config
		want string // substring of the error; "" for valid
	}{
		{"default 1 s", window.DefaultConfig(time.Second), ""},
		{"default 900 s", window.DefaultConfig(900 * time.Second), ""},
		{"no late wait", window.Config{Size: time.Minute, MaxState: 1}, ""},
		{"zero", window.Config{}, "Size 0s not in [1s, 15m0s]"},
		{"901 s", window.DefaultConfig(901 * time.Second), "Size 15m1s not in [1s, 15m0s]"},
		{"half second", window.DefaultConfig(500 * time.Millisecond), "Size 500ms not in"},
		{"fraction", window.DefaultConfig(1500 * time.Millisecond), "Size 1.5s is not a whole number of seconds"},
		{"negative late wait", window.Config{Size: time.Minute, LateWait: -time.Second, MaxState: 1}, "LateWait -1s, want ≥ 0"},
		{"zero max state", window.Config{Size: time.Minute}, "MaxState 0, want > 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			_, nerr := window.NewTracker(tc.cfg, shardID, streamARN)
			if tc.want == "" {
				if err != nil || nerr != nil {
					t.Errorf("got %v and %v, want nil", err, nerr)
				}
				return
			}
			if !errors.Is(err, window.ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want ErrInvalidConfig containing %q", err, tc.want)
			}
			if !errors.Is(nerr, window.ErrInvalidConfig) {
				t.Errorf("NewTracker: got %v, want ErrInvalidConfig", nerr)
			}
		})
	}
}

func TestWindowJSON(t *testing.T) {
	w := window.For(t0, 2*time.Minute)
	b, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"start":"2020-12-09T07:04:00Z","end":"2020-12-09T07:06:00Z"}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
	var back window.Window
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back != w {
		t.Errorf("round trip: got %v, want %v", back, w)
	}
	// Other zones and fractions are accepted and stored in UTC.
	if err := json.Unmarshal([]byte(`{"start":"2020-12-09T16:04:00.5+09:00","end":"2020-12-09T07:06:00Z"}`), &back); err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(500 * time.Millisecond); back.Start != want {
		t.Errorf("got start %v, want %v", back.Start, want)
	}
	for _, bad := range []string{`{"start":"x","end":"2020-12-09T07:06:00Z"}`, `{"start":"2020-12-09T07:06:00Z","end":1}`, `[]`} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil {
			t.Errorf("%s: got nil error, want one", bad)
		}
	}
}
