package filter_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/esmkit/esmkit/filter"
)

// Conformance checklist items of spec section 20 that concern filtering,
// at the level of this package: records that do not match are the ones the
// mapping filters out.

func matchAll(f *filter.Filter, data ...string) []bool {
	got := make([]bool, len(data))
	for i, d := range data {
		got[i] = f.Match(filter.Record{PartitionKey: "pk", Data: []byte(d)})
	}
	return got
}

func TestChecklist10_FilterQuota(t *testing.T) {
	p := `{"data":{"type":["buy"]}}`
	if _, err := filter.Compile(repeat(p, 6)); !errors.Is(err, filter.ErrInvalidPattern) {
		t.Errorf("6 filters: got %v, want ErrInvalidPattern", err)
	}
	if _, err := filter.Compile(repeat(p, 5)); err != nil {
		t.Errorf("5 filters: got %v, want nil", err)
	}
}

func TestChecklist11_PatternOf4097Characters(t *testing.T) {
	p := `{"data":{"a":["` + strings.Repeat("x", 4097-19) + `"]}}`
	if _, err := filter.Compile([]string{p}); !errors.Is(err, filter.ErrInvalidPattern) {
		t.Errorf("got %v, want ErrInvalidPattern", err)
	}
}

func TestChecklist12_PatternNotJSON(t *testing.T) {
	if _, err := filter.Compile([]string{`{"data": buy}`}); !errors.Is(err, filter.ErrInvalidPattern) {
		t.Errorf("got %v, want ErrInvalidPattern", err)
	}
}

func TestChecklist58_OnlyMatchingRecordsDelivered(t *testing.T) {
	f := mustCompile(t, `{"data":{"type":["buy"]}}`)
	got := matchAll(f, `{"type":"buy"}`, `{"type":"sell"}`)
	filteredOut := 0
	for _, ok := range got {
		if !ok {
			filteredOut++
		}
	}
	if !got[0] || got[1] || filteredOut != 1 {
		t.Errorf("got %v (FilteredOutEventCount %d), want [true false] (1)", got, filteredOut)
	}
}

func TestChecklist59_NonJSONDataDropped(t *testing.T) {
	f := mustCompile(t, `{"data":{"type":["buy"]}}`)
	if got := matchAll(f, `type=buy`, "\x00\x01", `{"type":"buy"`); got[0] || got[1] || got[2] {
		t.Errorf("got %v, want all false", got)
	}
}

func TestChecklist60_NumericRange(t *testing.T) {
	f := mustCompile(t, `{"data":{"price":[{"numeric":[">",10,"<=",20]}]}}`)
	if got := matchAll(f, `{"price":20}`, `{"price":10}`); !got[0] || got[1] {
		t.Errorf("got %v, want [true false]", got)
	}
}

func TestChecklist61_NumbersCompareAsStrings(t *testing.T) {
	f := mustCompile(t, `{"data":{"n":[300]}}`)
	if got := matchAll(f, `{"n":300.0}`, `{"n":300}`); got[0] || !got[1] {
		t.Errorf("got %v, want [false true]", got)
	}
}

func TestChecklist62_ExistsIsLeafOnly(t *testing.T) {
	f := mustCompile(t, `{"data":{"person":{"address":[{"exists":true}]}}}`)
	if got := matchAll(f, `{"person":{"address":{"city":"Paris"}}}`, `{"person":{"address":"Paris"}}`); got[0] || !got[1] {
		t.Errorf("got %v, want [false true]", got)
	}
}

func TestChecklist63_FiltersAreORed(t *testing.T) {
	f := mustCompile(t, `{"data":{"type":["buy"]}}`, `{"data":{"type":["sell"]}}`)
	if got := matchAll(f, `{"type":"sell"}`, `{"type":"hold"}`); !got[0] || got[1] {
		t.Errorf("got %v, want [true false]", got)
	}
}

func TestChecklist64_Or(t *testing.T) {
	f := mustCompile(t, `{"data":{"$or":[{"Location":["New York"]},{"Day":["Monday"]}]}}`)
	got := matchAll(f, `{"Location":"New York"}`, `{"Day":"Monday"}`, `{"Day":"Friday"}`)
	if !got[0] || !got[1] || got[2] {
		t.Errorf("got %v, want [true true false]", got)
	}
}

func TestChecklist65_EqualsIgnoreCase(t *testing.T) {
	fold := mustCompile(t, `{"data":{"Name":[{"equals-ignore-case":"alice"}]}}`)
	exact := mustCompile(t, `{"data":{"Name":["alice"]}}`)
	if got := matchAll(fold, `{"Name":"ALICE"}`); !got[0] {
		t.Errorf("equals-ignore-case: got %v, want [true]", got)
	}
	if got := matchAll(exact, `{"Name":"ALICE"}`); got[0] {
		t.Errorf("equals: got %v, want [false]", got)
	}
}
