package window

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Errors of [Tracker.Succeeded]. Each means the invocation failed, as Lambda
// counts a tumbling-window response without a state as a failed invocation:
// the caller retries it under its retry policy.
var (
	// ErrMissingState reports a response whose state is absent or null.
	ErrMissingState = errors.New("window: response has no state (a tumbling-window function must return one, {} at least)")
	// ErrInvalidState reports a response whose state is not a JSON object.
	ErrInvalidState = errors.New("window: response state is not a JSON object")
)

// ErrCorrupt is wrapped by the errors of [Tracker.UnmarshalBinary].
var ErrCorrupt = errors.New("window: corrupt persisted tracker")

// emptyState is the state of a new window, and of a window after it was
// terminated early.
var emptyState = json.RawMessage(`{}`)

// invocation is the kind of invocation in flight.
type invocation uint8

const (
	noInvocation invocation = iota
	recordsInvocation
	finalInvocation
)

var (
	_ encoding.BinaryMarshaler   = (*Tracker)(nil)
	_ encoding.BinaryUnmarshaler = (*Tracker)(nil)
)

// Tracker keeps the tumbling-window state of one shard, or of one lane of a
// shard when ParallelizationFactor is above 1: the open window, the state
// the function last returned, and whether the window was terminated early.
// It tells its owner where to cut batches and when a final invocation is
// due, builds each invocation's [Event], and takes each outcome.
//
// A Tracker is not safe for concurrent use. Its owner may hand it between
// goroutines through a channel (the lane's supervisor calls Cut and Final
// while the lane is idle; the lane calls Next, Succeeded and Failed while it
// invokes). The zero Tracker is not usable: make one with [NewTracker].
type Tracker struct {
	cfg       Config
	shardID   string
	sourceARN string

	open  bool            // cur is the open window
	cur   Window          // the open window, when open
	state json.RawMessage // compact JSON object passed to the next invocation; nil when !open
	early bool            // the next invocation carries isWindowTerminatedEarly
	// closed is the end of the last window closed, zero if none: records
	// arriving before it are counted in the next window, never in a closed
	// one, so every window is opened and closed once.
	closed time.Time

	inflight invocation // the invocation between Next and its outcome
}

// NewTracker returns a Tracker with no open window for the shard shardID of
// the stream eventSourceARN, which it copies into every [Event]. It returns
// an error wrapping [ErrInvalidConfig] if cfg is invalid.
func NewTracker(cfg Config, shardID, eventSourceARN string) (*Tracker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Tracker{cfg: cfg, shardID: shardID, sourceARN: eventSourceARN}, nil
}

// Current returns the open window, if any. A window opens when [Tracker.Next]
// builds the first invocation with its records, and closes when its final
// invocation succeeds (or is abandoned). An open window needs a final
// invocation before it can be forgotten, including when its shard ends.
func (t *Tracker) Current() (Window, bool) { return t.cur, t.open }

// Cut decides the next invocation for the n records pending on the lane,
// in shard order, whose arrival times (ApproximateArrivalTimestamp) are
// arrivalAt(0), …, arrivalAt(n-1).
//
// If the first pending record belongs to a window after the open one, the
// open window is over: Cut returns closeFirst, and the caller makes its
// final invocation (Next with no records) before anything else. Otherwise
// take ≥ 1 leading records belong to the open window, or to the window that
// the first of them opens; a batch holds at most take records (fewer if the
// batch limits say so), so that no batch spans two windows. If take < n the
// window has records of a later window behind it, so the caller need not
// wait for its batching window to fill the batch. With n = 0 Cut returns
// (0, false).
//
// Cut does not change t; it reads arrivalAt(i) only as far as needed.
func (t *Tracker) Cut(n int, arrivalAt func(i int) time.Time) (take int, closeFirst bool) {
	if n <= 0 {
		return 0, false
	}
	if t.open && !arrivalAt(0).Before(t.cur.End) {
		return 0, true
	}
	end := t.windowOf(arrivalAt(0)).End
	take = 1
	for take < n && arrivalAt(take).Before(end) {
		take++
	}
	return take, false
}

// windowOf returns the window in which a record arriving at a is counted:
// the open window if a is before its end (even before its start: a record
// whose own window is closed is late, and counted in the open window), or
// else the window of a, but not one that starts before the last closed
// window ends. That can only happen when the size changed between runs
// (UnmarshalBinary), and then the next window is taken, so that windows
// never overlap.
func (t *Tracker) windowOf(a time.Time) Window {
	if t.open && a.Before(t.cur.End) {
		return t.cur
	}
	if a.Before(t.closed) {
		a = t.closed
	}
	w := For(a, t.cfg.Size)
	if w.Start.Before(t.closed) {
		w = For(w.End, t.cfg.Size)
	}
	return w
}

// Final reports whether a final invocation of the open window is due at
// now because its late-record wait has passed: now ≥ End + LateWait and no
// invocation is in flight. Ask it only when the lane has no pending
// records: pending records of the open window go first (see Cut), and a
// pending record of a later window makes Cut return closeFirst at once.
func (t *Tracker) Final(now time.Time) bool {
	return t.open && t.inflight == noInvocation && !now.Before(t.cur.End.Add(t.cfg.LateWait))
}

// Deadline returns when Final becomes true if no record comes first, so
// that the owner can set a timer, and false if no window is open.
func (t *Tracker) Deadline() (time.Time, bool) {
	if !t.open {
		return time.Time{}, false
	}
	return t.cur.End.Add(t.cfg.LateWait), true
}

// Next returns the event of the next invocation and marks it in flight
// until [Tracker.Succeeded], [Tracker.Failed] or [Tracker.Abandon]. Call it
// again for each attempt: a retry or a half of a bisected batch gets the
// state as it is then.
//
// With records, which must be a prefix (or a part of a prefix) that Cut
// allowed, the event carries them with the open window, or opens the window
// of the first record with the state {}. With no records, it is the final
// invocation of the open window: Records is [] and IsFinalInvokeForWindow
// is true. Either carries IsWindowTerminatedEarly when the previous
// successful invocation returned a state over MaxState.
//
// Next panics if records belong to two windows or to a window after the
// open one, or if there are no records and no open window: these are bugs
// in the caller, which Cut and Current prevent.
func (t *Tracker) Next(records []events.KinesisEventRecord) Event {
	if len(records) == 0 {
		if !t.open {
			panic("window: final invocation with no open window")
		}
		t.inflight = finalInvocation
		return t.event([]events.KinesisEventRecord{}, true)
	}
	first := arrival(&records[0])
	if t.open && !first.Before(t.cur.End) {
		panic(fmt.Sprintf("window: record arriving at %v is after the open window %v: Cut returns closeFirst first", first, t.cur))
	}
	w := t.windowOf(first)
	for i := range records[1:] {
		if a := arrival(&records[i+1]); !a.Before(w.End) {
			panic(fmt.Sprintf("window: records span two windows (%v is after %v): cut them with Cut", a, w))
		}
	}
	if !t.open {
		t.open, t.cur, t.state, t.early = true, w, emptyState, false
	}
	t.inflight = recordsInvocation
	return t.event(records, false)
}

func (t *Tracker) event(records []events.KinesisEventRecord, final bool) Event {
	return Event{
		Records:                 records,
		Window:                  t.cur,
		State:                   bytes.Clone(t.state), // the handler may keep or change it
		ShardID:                 t.shardID,
		EventSourceARN:          t.sourceARN,
		IsFinalInvokeForWindow:  final,
		IsWindowTerminatedEarly: t.early,
	}
}

func arrival(r *events.KinesisEventRecord) time.Time {
	return r.Kinesis.ApproximateArrivalTimestamp.Time
}

// Succeeded ends the invocation in flight, which returned state (the
// "state" of its response, as JSON) and no error. A response that reports
// batch item failures counts too: its state is kept, and the retried
// records get it, so the function decides what its state includes.
//
// If state is absent or null, Succeeded returns an error wrapping
// [ErrMissingState], or if it is not a JSON object one wrapping
// [ErrInvalidState]; t is then as after [Tracker.Failed], and the caller
// handles the invocation as a function error, retrying it under its retry
// policy. A final invocation needs a state too.
//
// Otherwise it returns nil. After a final invocation the window is closed
// and its state dropped: the next record opens a new window with the state
// {}. After an invocation with records the state is kept for the next
// invocation, unless its compact JSON is longer than MaxState: the window is
// then terminated early, and the next invocation continues the same window
// with the state {} and IsWindowTerminatedEarly set.
//
// Succeeded panics if no invocation is in flight.
func (t *Tracker) Succeeded(state json.RawMessage) error {
	kind := t.inflight
	if kind == noInvocation {
		panic("window: Succeeded with no invocation in flight")
	}
	t.inflight = noInvocation
	s, err := compactObject(state)
	if err != nil {
		return err
	}
	if kind == finalInvocation {
		t.close()
		return nil
	}
	if len(s) > t.cfg.MaxState {
		t.state, t.early = emptyState, true
		return nil
	}
	t.state, t.early = s, false
	return nil
}

// Failed ends the invocation in flight without a result: a function error,
// a throttle, or an invocation that never completed. The state and flags
// are unchanged, so the retry gets the same ones.
func (t *Tracker) Failed() { t.inflight = noInvocation }

// Abandon closes the open window without a successful final invocation,
// dropping its state, as if its final invocation had succeeded. Call it
// when the retry policy gives up on a final invocation; esmkit's documented
// behaviour for a final invocation that exhausts MaximumRetryAttempts.
func (t *Tracker) Abandon() {
	t.inflight = noInvocation
	if t.open {
		t.close()
	}
}

func (t *Tracker) close() {
	t.closed = t.cur.End
	t.open, t.cur, t.state, t.early = false, Window{}, nil, false
}

// compactObject returns state as compact JSON if it is a JSON object.
func compactObject(state json.RawMessage) (json.RawMessage, error) {
	trimmed := trimJSONSpace(state)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return nil, ErrMissingState
	}
	if trimmed[0] != '{' {
		return nil, fmt.Errorf("%w: got a JSON %s", ErrInvalidState, kindOf(trimmed))
	}
	var buf bytes.Buffer
	buf.Grow(len(trimmed))
	if err := json.Compact(&buf, trimmed); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidState, err)
	}
	return buf.Bytes(), nil
}

// trimJSONSpace trims JSON's whitespace (space, tab, CR, LF) from v.
func trimJSONSpace(v []byte) []byte { return bytes.Trim(v, " \t\r\n") }

// kindOf names the JSON kind of a value by its first byte.
func kindOf(v []byte) string {
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	default:
		return "number"
	}
}

// persisted is the encoding of a Tracker's persistent part. Times are
// RFC 3339 with nanoseconds, so a window of any size round-trips exactly.
type persisted struct {
	V      int             `json:"v"`
	Start  time.Time       `json:"start,omitzero"`
	End    time.Time       `json:"end,omitzero"`
	State  json.RawMessage `json:"state,omitempty"` // present if and only if a window is open
	Early  bool            `json:"terminatedEarly,omitempty"`
	Closed time.Time       `json:"closedUntil,omitzero"`
}

const persistedVersion = 1

// MarshalBinary encodes t's persistent part: the open window, its state,
// whether the next invocation carries IsWindowTerminatedEarly, and the end
// of the last closed window. The caller stores it with the shard's
// checkpoint (checkpoint.Checkpoint.State) whenever a successful invocation
// moves the checkpoint, so that a restart resumes the window with its state
// instead of starting over with {}. Lambda keeps no such state across
// restarts of its own pollers that it documents; this is esmkit's addition.
//
// An invocation in flight is not part of it: after a restart, its records
// are read again from the checkpoint and invoked with the stored state. The
// encoding is versioned JSON; its format is not a stable API beyond being
// read back by UnmarshalBinary, but it is a JSON object, so a caller may
// embed it in its own JSON (one per lane) as a json.RawMessage.
func (t *Tracker) MarshalBinary() ([]byte, error) {
	p := persisted{V: persistedVersion, Early: t.early, Closed: t.closed}
	if t.open {
		p.Start, p.End, p.State = t.cur.Start, t.cur.End, t.state
	}
	return json.Marshal(p)
}

// UnmarshalBinary replaces t's persistent part with one encoded by
// [Tracker.MarshalBinary], keeping t's Config, shard and stream; empty data
// leaves no window open, as NewTracker does. An invocation in flight is
// forgotten. A window of another size than t's Config (the setting changed
// between runs) is kept open until it closes; windows after it have the new
// size, and the first starts no earlier than the old one ends. Errors wrap [ErrCorrupt] and leave t unchanged.
func (t *Tracker) UnmarshalBinary(data []byte) error {
	if len(bytes.TrimSpace(data)) == 0 {
		t.open, t.cur, t.state, t.early, t.closed, t.inflight = false, Window{}, nil, false, time.Time{}, noInvocation
		return nil
	}
	var p persisted
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: data after the encoding", ErrCorrupt)
	}
	if p.V != persistedVersion {
		return fmt.Errorf("%w: version %d, want %d", ErrCorrupt, p.V, persistedVersion)
	}
	p.Start, p.End, p.Closed = p.Start.UTC(), p.End.UTC(), p.Closed.UTC()
	open := p.State != nil
	var state json.RawMessage
	switch {
	case open:
		var err error
		if state, err = compactObject(p.State); err != nil {
			return fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		if !p.Start.Before(p.End) || p.End.Sub(p.Start) > MaxSize {
			return fmt.Errorf("%w: window [%v, %v) is empty or longer than %v", ErrCorrupt, p.Start, p.End, MaxSize)
		}
		if p.Start.Before(p.Closed) {
			return fmt.Errorf("%w: open window starts at %v, before the closed one ends at %v", ErrCorrupt, p.Start, p.Closed)
		}
	case !p.Start.IsZero() || !p.End.IsZero() || p.Early:
		return fmt.Errorf("%w: window bounds or flags without a state", ErrCorrupt)
	}
	t.open, t.state, t.early, t.closed, t.inflight = open, state, p.Early, p.Closed, noInvocation
	t.cur = Window{}
	if open {
		t.cur = Window{Start: p.Start, End: p.End}
	}
	return nil
}
