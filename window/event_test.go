package window_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/esmkit/esmkit/window"
)

// jsonEqual reports whether a and b are the same JSON value: numbers are
// compared as float64, so 1607497475.000 equals 1607497475.
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return reflect.DeepEqual(va, vb)
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestGolden decodes Lambda's example documents (spec §12.2, with numeric
// state) into Event and Response and encodes them back to the same JSON.
func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		file string
		v    any
	}{
		{"testdata/kinesis-time-window-event.json", &window.Event{}},
		{"testdata/kinesis-time-window-event-string-state.json", &window.Event{}},
		{"testdata/final-invocation-event.json", &window.Event{}},
		{"testdata/kinesis-time-window-response.json", &window.Response{}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			want := readFile(t, tc.file)
			if err := json.Unmarshal(want, tc.v); err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(t, got, want) {
				t.Errorf("got %s, want %s", got, want)
			}
		})
	}
}

// TestGoldenFromTracker builds the example event and its final invocation
// with a Tracker.
func TestGoldenFromTracker(t *testing.T) {
	var example window.Event
	if err := json.Unmarshal(readFile(t, "testdata/kinesis-time-window-event.json"), &example); err != nil {
		t.Fatal(err)
	}
	tr := newTracker(t, window.DefaultConfig(120*time.Second))
	succeed(t, tr, recs(at(0)), `{"1": 282, "2": 715}`)
	ev := tr.Next(example.Records)
	got, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	if want := readFile(t, "testdata/kinesis-time-window-event.json"); !jsonEqual(t, got, want) {
		t.Errorf("got %s, want %s", got, want)
	}
	if err := tr.Succeeded(ev.State); err != nil {
		t.Fatal(err)
	}
	if got, err = json.Marshal(tr.Next(nil)); err != nil {
		t.Fatal(err)
	}
	if want := readFile(t, "testdata/final-invocation-event.json"); !jsonEqual(t, got, want) {
		t.Errorf("final: got %s, want %s", got, want)
	}
}

// TestTypedMatchesAWSLambdaGo checks that the typed conversion gives what
// aws-lambda-go decodes from the same document, and converts back.
func TestTypedMatchesAWSLambdaGo(t *testing.T) {
	doc := readFile(t, "testdata/kinesis-time-window-event-string-state.json")
	var want events.KinesisTimeWindowEvent
	if err := json.Unmarshal(doc, &want); err != nil {
		t.Fatal(err)
	}
	var ev window.Event
	if err := json.Unmarshal(doc, &ev); err != nil {
		t.Fatal(err)
	}
	got, err := ev.Typed()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	back := window.EventFrom(got)
	gj, _ := json.Marshal(back)
	if !jsonEqual(t, gj, doc) {
		t.Errorf("EventFrom: got %s, want %s", gj, doc)
	}
	wantJSON, _ := json.Marshal(want)
	typedJSON, _ := json.Marshal(got)
	if !jsonEqual(t, typedJSON, wantJSON) {
		t.Errorf("typed JSON: got %s, want %s", typedJSON, wantJSON)
	}
}

func TestTypedState(t *testing.T) {
	for _, tc := range []struct {
		name    string
		state   string
		want    map[string]string
		wantErr string // substring; "" for no error
	}{
		{"nil", "", nil, ""},
		{"null", "null", nil, ""},
		{"empty", "{}", map[string]string{}, ""},
		{"strings", `{"a":"1","b":"x\ny"}`, map[string]string{"a": "1", "b": "x\ny"}, ""},
		{"number (spec example)", `{"1": 282, "2": 715}`, nil, `state value of key "1" is a JSON number, not a string`},
		{"first bad key in sorted order", `{"b":true,"a":"ok","c":[]}`, nil, `key "b" is a JSON boolean`},
		{"nested object", `{"a":{}}`, nil, `key "a" is a JSON object`},
		{"null value", `{"a":null}`, nil, `key "a" is a JSON null`},
		{"empty key", `{"":1}`, nil, `key "" is a JSON number`},
		{"array state", `[1]`, nil, "state is a JSON array, not an object"},
		{"malformed", `{"a":`, nil, "state is a JSON malformed object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := window.Event{State: json.RawMessage(tc.state)}
			tev, err := ev.Typed()
			resp, rerr := window.Response{State: json.RawMessage(tc.state)}.Typed()
			if tc.wantErr == "" {
				if err != nil || rerr != nil {
					t.Fatalf("got %v, %v, want nil", err, rerr)
				}
				if !reflect.DeepEqual(tev.State, tc.want) || !reflect.DeepEqual(resp.State, tc.want) {
					t.Errorf("got %#v and %#v, want %#v", tev.State, resp.State, tc.want)
				}
				return
			}
			var se *window.TypedStateError
			if !errors.As(err, &se) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Event: got %v, want a *TypedStateError containing %q", err, tc.wantErr)
			}
			if !errors.As(rerr, &se) || !strings.Contains(rerr.Error(), tc.wantErr) {
				t.Errorf("Response: got %v, want a *TypedStateError containing %q", rerr, tc.wantErr)
			}
			if !strings.Contains(err.Error(), "use window.Handler") {
				t.Errorf("got %q, want advice to use window.Handler", err)
			}
		})
	}
}

func TestResponseFrom(t *testing.T) {
	fails := []events.KinesisBatchItemFailure{{ItemIdentifier: "7"}}
	for _, tc := range []struct {
		name string
		in   events.KinesisTimeWindowEventResponse
		want string
	}{
		{"nil state is missing", events.KinesisTimeWindowEventResponse{}, `{"state":null,"batchItemFailures":null}`},
		{"empty state", resp(map[string]string{}, nil), `{"state":{},"batchItemFailures":null}`},
		{"state and failures", resp(map[string]string{"a": "1"}, fails), `{"state":{"a":"1"},"batchItemFailures":[{"itemIdentifier":"7"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := window.ResponseFrom(tc.in)
			got, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
			// The same JSON as aws-lambda-go's own encoding.
			if awsJSON, _ := json.Marshal(tc.in); !jsonEqual(t, got, awsJSON) {
				t.Errorf("got %s, want aws-lambda-go's %s", got, awsJSON)
			}
			if k := r.KinesisEventResponse(); !reflect.DeepEqual(k.BatchItemFailures, tc.in.BatchItemFailures) {
				t.Errorf("KinesisEventResponse: got %v, want %v", k.BatchItemFailures, tc.in.BatchItemFailures)
			}
		})
	}
}

func resp(state map[string]string, fails []events.KinesisBatchItemFailure) events.KinesisTimeWindowEventResponse {
	var r events.KinesisTimeWindowEventResponse
	r.State = state
	r.BatchItemFailures = fails
	return r
}

func TestTypedHandler(t *testing.T) {
	calls := 0
	h := window.Typed(func(_ context.Context, ev events.KinesisTimeWindowEvent) (events.KinesisTimeWindowEventResponse, error) {
		calls++
		state := ev.State
		for _, r := range ev.Records {
			state[r.Kinesis.PartitionKey] += "+"
		}
		return resp(state, nil), nil
	})
	tr := newTracker(t, window.DefaultConfig(120*time.Second))
	for i := range 3 {
		r, err := h(context.Background(), tr.Next(recs(at(time.Duration(i)*time.Second))))
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.Succeeded(r.State); err != nil {
			t.Fatal(err)
		}
	}
	r, err := h(context.Background(), tr.Next(nil))
	if err != nil || string(r.State) != `{"pk":"+++"}` {
		t.Errorf("final: got %s, %v; want {\"pk\":\"+++\"}, nil", r.State, err)
	}

	// A numeric state does not reach the typed handler.
	calls = 0
	_, err = h(context.Background(), window.Event{State: json.RawMessage(`{"pk":3}`)})
	var se *window.TypedStateError
	if !errors.As(err, &se) || se.Key != "pk" || se.Kind != "number" || calls != 0 {
		t.Errorf("got %v (%+v) after %d calls, want a *TypedStateError for key pk and no call", err, se, calls)
	}

	// A handler error passes through with the response.
	boom := errors.New("boom")
	h = window.Typed(func(context.Context, events.KinesisTimeWindowEvent) (events.KinesisTimeWindowEventResponse, error) {
		return events.KinesisTimeWindowEventResponse{}, boom
	})
	if r, err := h(context.Background(), window.Event{State: json.RawMessage(`{}`)}); !errors.Is(err, boom) || r.State != nil {
		t.Errorf("got %s, %v; want no state and boom", r.State, err)
	}
}
