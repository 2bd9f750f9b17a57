package esm_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/esmkit/esmkit/checkpoint"
	"github.com/esmkit/esmkit/esm"
	"github.com/esmkit/esmkit/kinesistest"
)

// TestFilterCriteriaEndToEnd runs checklist items 58–65 through a mapping:
// only matching records reach the handler, and the checkpoint passes every
// record, matching or not.
func TestFilterCriteriaEndToEnd(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		data     []string
		want     []string // data delivered, in order
	}{
		{"58 equals", []string{`{"data":{"type":["buy"]}}`},
			[]string{`{"type":"buy"}`, `{"type":"sell"}`}, []string{`{"type":"buy"}`}},
		{"59 non-JSON data is dropped", []string{`{"data":{"type":["buy"]}}`},
			[]string{`type=buy`, `{"type":"buy"}`, "\xff\xfe"}, []string{`{"type":"buy"}`}},
		{"60 numeric range", []string{`{"data":{"price":[{"numeric":[">",10,"<=",20]}]}}`},
			[]string{`{"price":20}`, `{"price":10}`, `{"price":15.5}`, `{"price":21}`}, []string{`{"price":20}`, `{"price":15.5}`}},
		{"61 numbers match by their text", []string{`{"data":{"n":[300]}}`},
			[]string{`{"n":300.0}`, `{"n":300}`, `{"n":3.0e2}`}, []string{`{"n":300}`}},
		{"62 exists matches leaves only", []string{`{"data":{"person":{"address":[{"exists":true}]}}}`},
			[]string{`{"person":{"address":{"city":"x"}}}`, `{"person":{"address":"here"}}`}, []string{`{"person":{"address":"here"}}`}},
		{"63 filters are OR-ed", []string{`{"data":{"type":["buy"]}}`, `{"data":{"type":["sell"]}}`},
			[]string{`{"type":"sell"}`, `{"type":"hold"}`, `{"type":"buy"}`}, []string{`{"type":"sell"}`, `{"type":"buy"}`}},
		{"64 $or", []string{`{"data":{"$or":[{"a":["1"]},{"b":["2"]}]}}`},
			[]string{`{"a":"1"}`, `{"b":"2"}`, `{"a":"2","b":"1"}`}, []string{`{"a":"1"}`, `{"b":"2"}`}},
		{"65 equals-ignore-case", []string{`{"data":{"name":[{"equals-ignore-case":"alice"}]}}`},
			[]string{`{"name":"ALICE"}`, `{"name":"bob"}`}, []string{`{"name":"ALICE"}`}},
		{"65 plain equals is case sensitive", []string{`{"data":{"name":["alice"]}}`},
			[]string{`{"name":"ALICE"}`}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				kc := kinesistest.New()
				arn := createStream(t, kc, "f", 1)
				recs := make([]rec, len(tc.data))
				for i, d := range tc.data {
					recs[i] = rec{Key: "k", Data: d}
				}
				put(t, kc, "f", recs)
				store := newStore(t)
				c := newCollector(0)
				stop := run(t, newMapping(t, kc, arn, c.handle, esm.StartingPosition(esm.TrimHorizon),
					esm.FilterCriteria(tc.patterns...), esm.CheckpointStore(store)))
				time.Sleep(5 * time.Second)
				if err := stop(); err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, d := range c.records() {
					got = append(got, d.Data)
				}
				if strings.Join(got, "|") != strings.Join(tc.want, "|") {
					t.Errorf("delivered %q, want %q", got, tc.want)
				}
				cp, _, err := store.Load(context.Background(), checkpoint.Key{Mapping: arn, ShardID: recs[0].ShardID})
				if err != nil {
					t.Fatal(err)
				}
				if last := recs[len(recs)-1].Seq; cp.SequenceNumber != last {
					t.Errorf("checkpoint %q, want the last record %q (filtered records are finished)", cp.SequenceNumber, last)
				}
			})
		})
	}
}

// TestFilterCountsTowardNothing checks that filtered-out records do not use
// up BatchSize: 10 matching records among 90 others make one batch of 10.
func TestFilterCountsTowardNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kc := kinesistest.New()
		arn := createStream(t, kc, "f", 1)
		var recs []rec
		for i := range 100 {
			d := `{"type":"other"}`
			if i%10 == 0 {
				d = `{"type":"order"}`
			}
			recs = append(recs, rec{Key: "k", Data: d})
		}
		put(t, kc, "f", recs)
		c := newCollector(10)
		stop := run(t, newMapping(t, kc, arn, c.handle, esm.StartingPosition(esm.TrimHorizon), esm.BatchSize(10),
			esm.FilterCriteria(`{"data":{"type":["order"]}}`)))
		c.wait(t, time.Minute)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if got := c.batchSizes(); len(got) != 1 || got[0] != 10 {
			t.Errorf("batch sizes %v, want [10]", got)
		}
	})
}

// Checklist 10–12: filter validation at New.
func TestFilterCriteriaValidation(t *testing.T) {
	p := `{"data":{"type":["buy"]}}`
	long := `{"data":{"k":["` + strings.Repeat("x", 4097) + `"]}}`
	tests := []struct {
		name    string
		opts    []esm.Option
		wantErr string
	}{
		{"five filters", []esm.Option{esm.FilterCriteria(p, p, p, p, p)}, ""},
		{"six filters over the default quota", []esm.Option{esm.FilterCriteria(p, p, p, p, p, p)}, "FilterCriteria"},
		{"six filters with quota 10", []esm.Option{esm.FilterCriteria(p, p, p, p, p, p), esm.MaxFilters(10)}, ""},
		{"quota 11", []esm.Option{esm.MaxFilters(11)}, "MaxFilters 11 not in [1, 10]"},
		{"pattern over 4,096 characters", []esm.Option{esm.FilterCriteria(long)}, "FilterCriteria"},
		{"pattern not JSON", []esm.Option{esm.FilterCriteria(`{"data": buy}`)}, "FilterCriteria"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := append([]esm.Option{esm.StartingPosition(esm.TrimHorizon)}, tc.opts...)
			_, err := esm.New(kinesistest.New(), testARN, nopHandler, opts...)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !errors.Is(err, esm.ErrInvalidOption) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("New: got %v, want an ErrInvalidOption mentioning %q", err, tc.wantErr)
			}
		})
	}
}
