package window

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-lambda-go/events"
)

// Event is the event of one tumbling-window invocation, in Lambda's JSON
// shape (spec §12.2): the Kinesis event's Records plus the window
// properties. State is the window's state as opaque JSON, a JSON object of
// any values, which is what Lambda passes; [Event.Typed] converts it to
// aws-lambda-go's [events.KinesisTimeWindowEvent].
//
// A final invocation has Records [] (an empty list, not null) and
// IsFinalInvokeForWindow true.
type Event struct {
	Records                 []events.KinesisEventRecord `json:"Records"`
	Window                  Window                      `json:"window"`
	State                   json.RawMessage             `json:"state"`
	ShardID                 string                      `json:"shardId"`
	EventSourceARN          string                      `json:"eventSourceARN"`
	IsFinalInvokeForWindow  bool                        `json:"isFinalInvokeForWindow"`
	IsWindowTerminatedEarly bool                        `json:"isWindowTerminatedEarly"`
}

// Response is what a tumbling-window function returns, in Lambda's JSON
// shape: the new state, which is required (a nil or null State fails the
// invocation, see [Tracker.Succeeded]), and the partial batch response,
// used as without windows when ReportBatchItemFailures is on.
type Response struct {
	State             json.RawMessage                  `json:"state"`
	BatchItemFailures []events.KinesisBatchItemFailure `json:"batchItemFailures"`
}

// KinesisEventResponse returns r's partial batch response, as the retry
// policy reads it for invocations without windows.
func (r Response) KinesisEventResponse() events.KinesisEventResponse {
	return events.KinesisEventResponse{BatchItemFailures: r.BatchItemFailures}
}

// Handler processes one tumbling-window invocation, with the state as
// opaque JSON. It is called with one invocation at a time per shard lane,
// and may be called concurrently for different shards or lanes.
type Handler func(context.Context, Event) (Response, error)

// Typed adapts a handler written with aws-lambda-go's tumbling-window types
// to a [Handler]. Their state is a map[string]string, so a state value that
// is not a JSON string (a number, as in Lambda's own examples) cannot reach
// h: the invocation then fails with a [*TypedStateError] without calling h.
// Such a state can only come from a function that is not h, such as a raw
// Handler used before on the same stream, through a persisted Tracker. A
// handler that keeps numbers should use the raw form and json.RawMessage.
func Typed(h func(context.Context, events.KinesisTimeWindowEvent) (events.KinesisTimeWindowEventResponse, error)) Handler {
	return func(ctx context.Context, ev Event) (Response, error) {
		tev, err := ev.Typed()
		if err != nil {
			return Response{}, err
		}
		resp, err := h(ctx, tev)
		return ResponseFrom(resp), err
	}
}

// TypedStateError reports a state that aws-lambda-go's types cannot hold:
// their State is a map[string]string.
type TypedStateError struct {
	// NotObject reports that the state itself is not a JSON object; Key is
	// then unused.
	NotObject bool
	// Key is the state key whose value is not a string (the first such key
	// in sorted order).
	Key string
	// Kind is the JSON kind found: "number", "object", "array", "boolean",
	// "null", or a description of malformed JSON.
	Kind string
}

func (e *TypedStateError) Error() string {
	if e.NotObject {
		return fmt.Sprintf("window: state is a JSON %s, not an object: aws-lambda-go's map[string]string cannot hold it; use window.Handler, whose State is json.RawMessage", e.Kind)
	}
	return fmt.Sprintf("window: state value of key %q is a JSON %s, not a string: aws-lambda-go's map[string]string cannot hold it; use window.Handler, whose State is json.RawMessage", e.Key, e.Kind)
}

// Typed converts e to aws-lambda-go's [events.KinesisTimeWindowEvent]. It
// fails with a [*TypedStateError] if the state is not a JSON object whose
// values are all strings. A nil or null State becomes a nil map.
func (e Event) Typed() (events.KinesisTimeWindowEvent, error) {
	state, err := stringMap(e.State)
	if err != nil {
		return events.KinesisTimeWindowEvent{}, err
	}
	var tev events.KinesisTimeWindowEvent
	tev.Records = e.Records
	tev.Window = events.Window{
		Start: events.RFC3339EpochTime{Time: e.Window.Start},
		End:   events.RFC3339EpochTime{Time: e.Window.End},
	}
	tev.State = state
	tev.ShardID = e.ShardID
	tev.EventSourceARN = e.EventSourceARN
	tev.IsFinalInvokeForWindow = e.IsFinalInvokeForWindow
	tev.IsWindowTerminatedEarly = e.IsWindowTerminatedEarly
	return tev, nil
}

// EventFrom converts aws-lambda-go's [events.KinesisTimeWindowEvent] to an
// Event; window bounds are converted to UTC, and a nil State map becomes a
// nil State.
func EventFrom(tev events.KinesisTimeWindowEvent) Event {
	return Event{
		Records:                 tev.Records,
		Window:                  Window{Start: tev.Window.Start.UTC(), End: tev.Window.End.UTC()},
		State:                   rawMap(tev.State),
		ShardID:                 tev.ShardID,
		EventSourceARN:          tev.EventSourceARN,
		IsFinalInvokeForWindow:  tev.IsFinalInvokeForWindow,
		IsWindowTerminatedEarly: tev.IsWindowTerminatedEarly,
	}
}

// Typed converts r to aws-lambda-go's [events.KinesisTimeWindowEventResponse],
// failing as [Event.Typed] does.
func (r Response) Typed() (events.KinesisTimeWindowEventResponse, error) {
	state, err := stringMap(r.State)
	if err != nil {
		return events.KinesisTimeWindowEventResponse{}, err
	}
	var tr events.KinesisTimeWindowEventResponse
	tr.State = state
	tr.BatchItemFailures = r.BatchItemFailures
	return tr, nil
}

// ResponseFrom converts aws-lambda-go's
// [events.KinesisTimeWindowEventResponse] to a Response. A nil State map
// becomes a nil State, which [Tracker.Succeeded] rejects as missing; an
// empty map is the state {}.
func ResponseFrom(tr events.KinesisTimeWindowEventResponse) Response {
	return Response{State: rawMap(tr.State), BatchItemFailures: tr.BatchItemFailures}
}

// rawMap encodes m as a JSON object, or returns nil for a nil map.
func rawMap(m map[string]string) json.RawMessage {
	if m == nil {
		return nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		// A map[string]string always encodes (invalid UTF-8 is replaced).
		panic(err)
	}
	return b
}

// stringMap decodes a JSON object of strings; nil or null is a nil map.
func stringMap(raw json.RawMessage) (map[string]string, error) {
	trimmed := trimJSONSpace(raw)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return nil, nil
	}
	var fields map[string]json.RawMessage
	if trimmed[0] != '{' {
		return nil, &TypedStateError{NotObject: true, Kind: kindOf(trimmed)}
	}
	if err := json.Unmarshal(trimmed, &fields); err != nil {
		return nil, &TypedStateError{NotObject: true, Kind: "malformed object (" + err.Error() + ")"}
	}
	m := make(map[string]string, len(fields))
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		v := trimJSONSpace(fields[k])
		if len(v) == 0 || v[0] != '"' {
			return nil, &TypedStateError{Key: k, Kind: kindOf(v)}
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, &TypedStateError{Key: k, Kind: "malformed string (" + err.Error() + ")"}
		}
		m[k] = s
	}
	return m, nil
}
