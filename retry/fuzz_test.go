package retry_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/esmkit/esmkit/retry"
)

// FuzzParseResponse checks ParseResponse against an independent oracle that
// decodes the payload into generic values and checks the documented shapes.
// Invariants:
//   - ParseResponse never panics;
//   - it succeeds exactly when the oracle accepts the payload (null, an object
//     without an item list, or whose batchItemFailures is null or a list of
//     objects each with a non-empty string itemIdentifier, no key differing
//     from batchItemFailures only in case), and then returns the same
//     identifiers in the same order;
//   - it fails with an error matching ErrInvalidResponse and a zero response
//     otherwise;
//   - a parsed response, marshalled by encoding/json as
//     events.KinesisEventResponse, parses back to itself.
func FuzzParseResponse(f *testing.F) {
	for _, s := range []string{
		`null`, `{}`, `{"batchItemFailures":null}`, `{"batchItemFailures":[]}`,
		`{"batchItemFailures":[{"itemIdentifier":"49601189658422359378836298521827638475320189012309704722"}]}`,
		`{"batchItemFailures":[{"itemIdentifier":"2"},{"itemIdentifier":"1","other":[1e400]}]}`,
		`{"batchItemFailures":[{"itemIdentifier":""}]}`, `{"batchItemFailures":[{"itemIdentifier":null}]}`,
		`{"batchItemFailures":[{"itemId":"s2"}]}`, `{"BatchItemFailures":[]}`, `{"batchItemFailures":[null]}`,
		`{"batchItemFailures":{}}`, `[{"itemIdentifier":"1"}]`, `"null"`, `1`, `true`, ``, `{`, `{}x`,
		`{"batchItemFailures":[],"batchItemFailures":[{"itemIdentifier":"1"}]}`, "{\"batchItemFailures\":[{\"itemIdentifier\":\"\xff\"}]}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		got, err := retry.ParseResponse(payload)
		wantIDs, valid := oracle(payload)
		if !valid {
			if !errors.Is(err, retry.ErrInvalidResponse) || got.BatchItemFailures != nil {
				t.Fatalf("ParseResponse(%q): got %+v, %v, want an ErrInvalidResponse", payload, got, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("ParseResponse(%q): got %v, want %q", payload, err, wantIDs)
		}
		var ids []string
		for _, it := range got.BatchItemFailures {
			ids = append(ids, it.ItemIdentifier)
		}
		if !slicesEqual(ids, wantIDs) {
			t.Fatalf("ParseResponse(%q): got %q, want %q", payload, ids, wantIDs)
		}
		b, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		again, err := retry.ParseResponse(b)
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Fatalf("round trip of %q through %s: got %+v, %v, want %+v", payload, b, again, err, got)
		}
		var std events.KinesisEventResponse
		if err := json.Unmarshal(b, &std); err != nil || !reflect.DeepEqual(std, got) {
			t.Fatalf("%s as events.KinesisEventResponse: got %+v, %v, want %+v", b, std, err, got)
		}
	})
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// oracle returns the identifiers of a valid response, checked on generic
// values decoded by encoding/json.
func oracle(payload []byte) (ids []string, valid bool) {
	d := json.NewDecoder(bytes.NewReader(payload))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, false
	}
	if len(bytes.Trim(payload[d.InputOffset():], " \t\r\n")) > 0 { // trailing data
		return nil, false
	}
	if v == nil {
		return nil, true
	}
	top, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	const key = "batchItemFailures"
	for k := range top {
		if k != key && strings.EqualFold(k, key) {
			return nil, false
		}
	}
	list, ok := top[key].([]any)
	if !ok {
		return nil, top[key] == nil
	}
	for _, it := range list {
		item, ok := it.(map[string]any)
		if !ok {
			return nil, false
		}
		id, ok := item["itemIdentifier"].(string)
		if !ok || id == "" {
			return nil, false
		}
		ids = append(ids, id)
	}
	return ids, true
}
