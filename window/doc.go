// Package window keeps tumbling-window state between invocations.
//
// It implements the tumbling windows of AWS Lambda's event source mapping
// for Kinesis (TumblingWindowInSeconds, spec §12) for one shard, or one lane
// of a shard. It starts no goroutines, does no I/O and reads no clock: the
// caller passes the time, and imports only the standard library and
// aws-lambda-go's event types.
//
// # Windows
//
// A window is a fixed interval [Start, End) of [Config.Size], 1 to 900
// whole seconds, aligned on the Unix epoch ([For]). A record belongs to the
// window of its ApproximateArrivalTimestamp, the time Kinesis accepted it,
// not the time it is read or processed.
//
// Kinesis arrival times are only roughly ordered within a shard. A record
// that arrives before the open window's start, in a window that is already
// over, is counted in the open window; one that arrives before the end of
// the last closed window when none is open is counted in the window after
// it. A window is thus opened once and closed once, and windows follow each
// other in time. A record is never delivered in a window that has had its
// final invocation.
//
// # State and invocations
//
// Every invocation of a window passes the state the function last returned
// for it, {} at first, and the function must return a state: a response
// without one fails the invocation, which is retried like any failed batch
// ([ErrMissingState]). State is opaque JSON, passed through byte for byte
// apart from whitespace, so numbers keep their precision. A state longer
// than [Config.MaxState] (1 MB in Lambda) terminates the window early: the
// next invocation continues the same window with the state {} and
// IsWindowTerminatedEarly set.
//
// A window is over when a record of a later window is read, when End plus
// [Config.LateWait] has passed with nothing pending (Lambda waits up to two
// minutes after the end for records read late), or when its shard ends. A final
// invocation then passes the state with IsFinalInvokeForWindow set and no
// records (Records is []), and once it succeeds the state is dropped. Child
// shards start with their own Tracker, so with no window and no state.
//
// # Driving a Tracker
//
// The owner of a lane keeps its pending records in shard order and, while
// the lane is idle:
//
//  1. With records pending, calls [Tracker.Cut]. If it returns closeFirst,
//     the lane makes the final invocation of the open window; otherwise it
//     invokes a batch of at most take records. A batch thus never spans two
//     windows.
//  2. With nothing pending, makes the final invocation if [Tracker.Final]
//     reports the late-record wait over, and otherwise sleeps until more
//     records or [Tracker.Deadline].
//  3. When the shard has ended and nothing is pending, makes the final
//     invocation if [Tracker.Current] reports a window open.
//
// For each attempt of an invocation the lane calls [Tracker.Next], which
// returns the [Event] (with no records, the final invocation), invokes the
// function and reports [Tracker.Succeeded] with the returned state, or
// [Tracker.Failed]. A retried or bisected batch calls Next again, so each
// attempt carries the current state.
//
// # Handlers
//
// [Event] and [Response] have Lambda's JSON shape with the state as
// json.RawMessage, as a [Handler] receives them. aws-lambda-go's
// [events.KinesisTimeWindowEvent] holds the state as a map[string]string,
// which cannot hold numbers; [Typed] adapts a handler written with it, and
// [Event.Typed], [EventFrom], [Response.Typed] and [ResponseFrom] convert.
//
// # Persistence
//
// Beyond Lambda, a Tracker's persistent part (open window, state, early
// termination, last closed window) can be stored with the shard's
// checkpoint ([Tracker.MarshalBinary], [Tracker.UnmarshalBinary]), so that
// a restarted program resumes an open window with its state.
package window
