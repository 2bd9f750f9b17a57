package window

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Lambda's limits and defaults for tumbling windows (spec §12.1).
const (
	// MinSize and MaxSize bound Config.Size: Lambda's
	// TumblingWindowInSeconds is 1 to 900 (0, which disables windows, is
	// the caller's business: it makes no Tracker).
	MinSize = time.Second
	MaxSize = 900 * time.Second

	// DefaultLateWait is how long Lambda waits after a window's end for
	// records that arrived in it but have not been read yet: "up to 2
	// minutes".
	DefaultLateWait = 2 * time.Minute

	// DefaultMaxState is Lambda's 1 MB limit on a window's state, in bytes
	// of compact serialized JSON.
	DefaultMaxState = 1 << 20
)

// ErrInvalidConfig is wrapped by the errors of [Config.Validate] and
// [NewTracker].
var ErrInvalidConfig = errors.New("window: invalid config")

// Window is one tumbling window, the half-open interval [Start, End). The
// zero Window stands for no window; [For] returns it only for a size ≤ 0.
// Windows from this package are in UTC without a monotonic reading, so ==
// compares them.
type Window struct {
	Start, End time.Time
}

// For returns the window of the given size, aligned on the Unix epoch, that
// holds arrival: the one with Start ≤ arrival < End and Start a multiple of
// size since 1970-01-01T00:00:00Z. Start and End are in UTC. Size must be
// positive; For returns the zero Window otherwise. A size of whole seconds
// (every valid [Config.Size]) is computed on Unix seconds and exact; other
// sizes are computed on nanoseconds and exact within ±292 years of 1970,
// which covers every Kinesis ApproximateArrivalTimestamp.
func For(arrival time.Time, size time.Duration) Window {
	if size <= 0 {
		return Window{}
	}
	var start time.Time
	if size%time.Second == 0 {
		s := int64(size / time.Second)
		start = time.Unix(floorDiv(arrival.Unix(), s)*s, 0)
	} else {
		d := arrival.Sub(unixEpoch) // saturates beyond ±292 years
		start = unixEpoch.Add(time.Duration(floorDiv(int64(d), int64(size)) * int64(size)))
	}
	start = start.UTC()
	return Window{Start: start, End: start.Add(size)}
}

var unixEpoch = time.Unix(0, 0).UTC()

// floorDiv is a/b rounded toward minus infinity, for b > 0.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

// Contains reports whether t is in w: Start ≤ t < End.
func (w Window) Contains(t time.Time) bool {
	return !t.Before(w.Start) && t.Before(w.End)
}

// IsZero reports whether w is the zero Window.
func (w Window) IsZero() bool { return w.Start.IsZero() && w.End.IsZero() }

// String returns w as "[start, end)" in RFC 3339.
func (w Window) String() string {
	return "[" + w.Start.UTC().Format(time.RFC3339Nano) + ", " + w.End.UTC().Format(time.RFC3339Nano) + ")"
}

// windowJSON is Lambda's "window" object.
type windowJSON struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// MarshalJSON encodes w as Lambda does: {"start":…,"end":…}, RFC 3339 in
// UTC with second precision (a fraction of a second is dropped, which no
// window of a valid Config has).
func (w Window) MarshalJSON() ([]byte, error) {
	return json.Marshal(windowJSON{
		Start: w.Start.UTC().Format(time.RFC3339),
		End:   w.End.UTC().Format(time.RFC3339),
	})
}

// UnmarshalJSON decodes Lambda's "window" object. It accepts any RFC 3339
// time, with or without a fraction, and stores it in UTC.
func (w *Window) UnmarshalJSON(b []byte) error {
	var j windowJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	start, err := time.Parse(time.RFC3339, j.Start)
	if err != nil {
		return fmt.Errorf("window: start: %w", err)
	}
	end, err := time.Parse(time.RFC3339, j.End)
	if err != nil {
		return fmt.Errorf("window: end: %w", err)
	}
	*w = Window{Start: start.UTC(), End: end.UTC()}
	return nil
}

// Config is the tumbling-window setting of one mapping. It is plain data:
// copy and share it freely. The zero Config is invalid (Size must be set);
// [DefaultConfig] gives Lambda's behaviour for a size.
type Config struct {
	// Size is the window length: Lambda's TumblingWindowInSeconds, a whole
	// number of seconds from 1 s to 900 s. Whole seconds because Lambda
	// passes window bounds with second precision.
	Size time.Duration

	// LateWait is how long after a window's end, with no record of a later
	// window read, the window stays open for records that arrived in it but
	// are read late. Lambda waits up to 2 minutes ([DefaultLateWait]). 0
	// closes a window as soon as its end has passed; negative is invalid.
	LateWait time.Duration

	// MaxState is the largest state, in bytes of compact JSON, that a
	// function may return; a larger one terminates the window early. Lambda's
	// limit is 1 MB ([DefaultMaxState], 1,048,576). It must be positive.
	MaxState int
}

// DefaultConfig returns Lambda's setting for windows of the given size:
// LateWait 2 minutes, MaxState 1 MB.
func DefaultConfig(size time.Duration) Config {
	return Config{Size: size, LateWait: DefaultLateWait, MaxState: DefaultMaxState}
}

// Validate reports whether c is usable, naming the first bad field, its
// value and the allowed range.
func (c Config) Validate() error {
	switch {
	case c.Size < MinSize || c.Size > MaxSize:
		return fmt.Errorf("%w: Size %v not in [%v, %v] (TumblingWindowInSeconds 1 to 900)", ErrInvalidConfig, c.Size, MinSize, MaxSize)
	case c.Size%time.Second != 0:
		return fmt.Errorf("%w: Size %v is not a whole number of seconds (TumblingWindowInSeconds)", ErrInvalidConfig, c.Size)
	case c.LateWait < 0:
		return fmt.Errorf("%w: LateWait %v, want ≥ 0", ErrInvalidConfig, c.LateWait)
	case c.MaxState <= 0:
		return fmt.Errorf("%w: MaxState %d, want > 0 (Lambda: %d)", ErrInvalidConfig, c.MaxState, DefaultMaxState)
	}
	return nil
}
