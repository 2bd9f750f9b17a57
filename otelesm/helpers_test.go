package otelesm_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/esmkit/esmkit/otelesm"
)

// newHook returns a Hook recording on a fresh SDK MeterProvider and the
// ManualReader that collects it.
func newHook(t testing.TB, opts ...otelesm.Option) (*otelesm.Hook, *sdkmetric.ManualReader) {
	t.Helper()
	r := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	h, err := otelesm.New(mp, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h, r
}

// snapshot is one collection, indexed by instrument name.
type snapshot map[string]metricdata.Metrics

func collect(t testing.TB, r *sdkmetric.ManualReader) snapshot {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatalf("Collect: %v", err)
	}
	s := snapshot{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != otelesm.ScopeName {
			t.Errorf("scope %q, want %q", sm.Scope.Name, otelesm.ScopeName)
		}
		for _, m := range sm.Metrics {
			s[m.Name] = m
		}
	}
	return s
}

// match reports whether set has every attribute of want.
func match(set attribute.Set, want []attribute.KeyValue) bool {
	for _, kv := range want {
		if v, ok := set.Value(kv.Key); !ok || v != kv.Value {
			return false
		}
	}
	return true
}

// sum is the total of a counter's series that have the attributes want.
func (s snapshot) sum(t testing.TB, name string, want ...attribute.KeyValue) int64 {
	t.Helper()
	m, ok := s[name]
	if !ok {
		return 0
	}
	d, ok := m.Data.(metricdata.Sum[int64])
	if !ok {
		t.Fatalf("%s is %T, want an int64 Sum", name, m.Data)
	}
	if !d.IsMonotonic || d.Temporality != metricdata.CumulativeTemporality {
		t.Errorf("%s: monotonic %v, temporality %v; want a cumulative counter", name, d.IsMonotonic, d.Temporality)
	}
	var n int64
	for _, p := range d.DataPoints {
		if match(p.Attributes, want) {
			n += p.Value
		}
	}
	return n
}

// hist is the count and sum of a histogram's series that have want.
func (s snapshot) hist(t testing.TB, name string, want ...attribute.KeyValue) (count uint64, sum float64) {
	t.Helper()
	m, ok := s[name]
	if !ok {
		return 0, 0
	}
	switch d := m.Data.(type) {
	case metricdata.Histogram[int64]:
		for _, p := range d.DataPoints {
			if match(p.Attributes, want) {
				count += p.Count
				sum += float64(p.Sum)
			}
		}
	case metricdata.Histogram[float64]:
		for _, p := range d.DataPoints {
			if match(p.Attributes, want) {
				count += p.Count
				sum += p.Sum
			}
		}
	default:
		t.Fatalf("%s is %T, want a Histogram", name, m.Data)
	}
	return count, sum
}

// gauge returns a gauge's series, each as its attribute set and value.
func (s snapshot) gauge(t testing.TB, name string) map[attribute.Distinct]metricdata.DataPoint[int64] {
	t.Helper()
	out := map[attribute.Distinct]metricdata.DataPoint[int64]{}
	m, ok := s[name]
	if !ok {
		return out
	}
	d, ok := m.Data.(metricdata.Gauge[int64])
	if !ok {
		t.Fatalf("%s is %T, want an int64 Gauge", name, m.Data)
	}
	for _, p := range d.DataPoints {
		out[p.Attributes.Equivalent()] = p
	}
	return out
}

// gaugeValue is the value of the gauge series that has want, and whether
// exactly one has.
func (s snapshot) gaugeValue(t testing.TB, name string, want ...attribute.KeyValue) (int64, bool) {
	t.Helper()
	var v int64
	n := 0
	for _, p := range s.gauge(t, name) {
		if match(p.Attributes, want) {
			v = p.Value
			n++
		}
	}
	return v, n == 1
}

// counters are the Int64Counter names, as esm.Stats's fields are.
var counters = []string{
	"esm.PolledEventCount", "esm.FilteredOutEventCount", "esm.InvokedEventCount",
	"esm.FailedInvokeEventCount", "esm.DroppedEventCount",
	"esm.OnFailureDestinationDeliveredEventCount", "esm.DestinationDeliveryFailures",
	"esm.Invocations", "esm.Errors", "esm.Throttles",
	"esm.CheckpointWrites", "esm.CheckpointWriteFailures",
}
