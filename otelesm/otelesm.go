package otelesm

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/esmkit/esmkit/esm"
	"github.com/esmkit/esmkit/retry"
)

// ScopeName is the instrumentation scope of the Hook's meter.
const ScopeName = "github.com/esmkit/esmkit/otelesm"

// The attribute keys the Hook sets.
const (
	ShardIDKey     = attribute.Key("esm.shard.id")
	MappingNameKey = attribute.Key("esm.mapping.name")
	ConditionKey   = attribute.Key("esm.discard.condition")
	StateKey       = attribute.Key("esm.state")
)

// Compile-time checks that a *Hook is every kind of esm hook.
var (
	_ esm.BatchHook      = (*Hook)(nil)
	_ esm.PollHook       = (*Hook)(nil)
	_ esm.DiscardHook    = (*Hook)(nil)
	_ esm.CheckpointHook = (*Hook)(nil)
	_ esm.StateHook      = (*Hook)(nil)
)

// conditions are the discard conditions whose attribute sets are built
// once per shard; any other is built when it happens.
var conditions = [...]string{string(retry.RetryAttemptsExhausted), string(retry.RecordAgeExceeded)}

// states are the values esm.State reports, in Lambda's order. A mapping
// starts Creating (esm.New), which no OnStateChange reports.
var states = [...]esm.State{
	esm.StateCreating, esm.StateEnabling, esm.StateEnabled, esm.StateDisabling,
	esm.StateDisabled, esm.StateUpdating, esm.StateDeleting,
}

// Histogram bucket boundaries, fitted to each range: Lambda's function
// timeout is at most 900 s, BatchSize at most 10,000, and a record can be
// as old as the stream's 7-day (365-day, extended) retention.
var (
	durationBounds  = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60, 300, 900}
	batchSizeBounds = []float64{1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000}
	ageBounds       = []float64{0, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 900000, 3600000, 21600000, 86400000, 604800000}
)

// Hook records a mapping's metrics on OpenTelemetry instruments. It
// implements esm.BatchHook, esm.PollHook, esm.DiscardHook,
// esm.CheckpointHook and esm.StateHook; pass it with esm.Hooks. Its methods
// are safe for concurrent use, do not block and, once a shard has been
// seen, allocate nothing themselves. Create one with New; the zero Hook is
// not usable.
type Hook struct {
	// Instruments, created by New and never changed.
	polled, filtered, invoked, failedInvoke metric.Int64Counter
	dropped, delivered, deliveryFailures    metric.Int64Counter
	invocations, errors, throttles          metric.Int64Counter
	checkpoints, checkpointFailures         metric.Int64Counter
	duration                                metric.Float64Histogram
	batchSize, iteratorAge                  metric.Int64Histogram
	millisBehind                            metric.Int64Gauge
	stateObs                                metric.Int64ObservableGauge

	// Attributes, built by New and never changed: base is every
	// measurement's without the shard; stateOpts is each state's set for
	// esm.State; unsharded is the one set used without ShardAttribute.
	base      []attribute.KeyValue
	stateOpts [len(states)][]metric.ObserveOption
	unsharded *attrSet

	// shards maps a shard ID to its set when ShardAttribute is on. The map
	// is never modified once stored: writers copy it under mu, so readers
	// need only Load.
	shards atomic.Pointer[map[string]*attrSet]
	mu     sync.Mutex

	// state is the last state OnStateChange reported; nil means Creating,
	// the state esm.New returns a mapping in.
	state atomic.Pointer[esm.State]

	reg       metric.Registration
	closeOnce sync.Once
	closeErr  error
}

// attrSet is the measurement options of one shard, built once so that the
// hot paths pass a ready slice (metric.WithAttributeSet returns an
// interface, which would allocate on every call).
type attrSet struct {
	kvs  []attribute.KeyValue // base plus the shard's, to build other sets
	add  []metric.AddOption
	rec  []metric.RecordOption
	cond [len(conditions)][]metric.AddOption
}

// New creates the Hook's instruments on a meter of mp named ScopeName and
// registers the callback of esm.State. It returns an error if mp is nil or
// mp refuses an instrument or the callback. New does not start a
// goroutine. Call Close when the mapping is
// gone, to unregister the callback.
func New(mp metric.MeterProvider, opts ...Option) (*Hook, error) {
	if mp == nil {
		return nil, errors.New("otelesm: nil MeterProvider")
	}
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	h := &Hook{base: append([]attribute.KeyValue(nil), cfg.attrs...)}
	if cfg.mapping != "" {
		h.base = append(h.base, MappingNameKey.String(cfg.mapping))
	}
	if cfg.shardAttr {
		m := map[string]*attrSet{}
		h.shards.Store(&m)
	} else {
		h.unsharded = newAttrSet(h.base)
	}
	for i, s := range states {
		set := attribute.NewSet(append(h.base[:len(h.base):len(h.base)], StateKey.String(string(s)))...)
		h.stateOpts[i] = []metric.ObserveOption{metric.WithAttributeSet(set)}
	}

	meter := mp.Meter(ScopeName)
	var errs []error
	counter := func(name, unit, desc string) metric.Int64Counter {
		c, err := meter.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	h.polled = counter("esm.PolledEventCount", "{event}", "Records read from the stream.")
	h.filtered = counter("esm.FilteredOutEventCount", "{event}", "Records that matched no FilterCriteria pattern and were finished without an invocation.")
	h.invoked = counter("esm.InvokedEventCount", "{event}", "Records handed to the function, counted again on every retry; throttled calls are not counted.")
	h.failedInvoke = counter("esm.FailedInvokeEventCount", "{event}", "Records of invocations that failed: a function error or a non-empty batchItemFailures response.")
	h.dropped = counter("esm.DroppedEventCount", "{event}", "Records discarded by MaximumRetryAttempts or MaximumRecordAge that did not reach an on-failure destination.")
	h.delivered = counter("esm.OnFailureDestinationDeliveredEventCount", "{event}", "Discarded records whose on-failure record was delivered.")
	h.deliveryFailures = counter("esm.DestinationDeliveryFailures", "{delivery}", "On-failure records that could not be delivered.")
	h.invocations = counter("esm.Invocations", "{invocation}", "Invocations of the function, including those that failed; not throttled calls.")
	h.errors = counter("esm.Errors", "{invocation}", "Invocations that returned a function error or panicked.")
	h.throttles = counter("esm.Throttles", "{invocation}", "Calls that were throttled and never reached the function.")
	h.checkpoints = counter("esm.CheckpointWrites", "{write}", "Checkpoint writes, including failed ones.")
	h.checkpointFailures = counter("esm.CheckpointWriteFailures", "{write}", "Checkpoint writes that returned an error.")
	var err error
	h.duration, err = meter.Float64Histogram("esm.Duration", metric.WithUnit("s"),
		metric.WithDescription("How long each invocation of the function ran."),
		metric.WithExplicitBucketBoundaries(durationBounds...))
	errs = append(errs, err)
	h.batchSize, err = meter.Int64Histogram("esm.BatchSize", metric.WithUnit("{event}"),
		metric.WithDescription("Records per invocation."),
		metric.WithExplicitBucketBoundaries(batchSizeBounds...))
	errs = append(errs, err)
	h.iteratorAge, err = meter.Int64Histogram("esm.IteratorAge", metric.WithUnit("ms"),
		metric.WithDescription("Time from the arrival in the stream of an invocation's last record to the start of the invocation."),
		metric.WithExplicitBucketBoundaries(ageBounds...))
	errs = append(errs, err)
	h.millisBehind, err = meter.Int64Gauge("esm.MillisBehindLatest", metric.WithUnit("ms"),
		metric.WithDescription("How far the last non-empty read of the shard was from the tip of the shard."))
	errs = append(errs, err)
	h.stateObs, err = meter.Int64ObservableGauge("esm.State", metric.WithUnit("1"),
		metric.WithDescription("1 for the mapping's current state, 0 for the others."))
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("otelesm: %w", err)
	}
	h.reg, err = meter.RegisterCallback(h.observeState, h.stateObs)
	if err != nil {
		return nil, fmt.Errorf("otelesm: %w", err)
	}
	return h, nil
}

// Close unregisters the callback of esm.State, which otherwise keeps the
// Hook reachable from the MeterProvider. The other instruments go on
// working. Close is idempotent and safe for concurrent use.
func (h *Hook) Close() error {
	h.closeOnce.Do(func() { h.closeErr = h.reg.Unregister() })
	return h.closeErr
}

func newAttrSet(kvs []attribute.KeyValue) *attrSet {
	a := &attrSet{kvs: kvs}
	opt := metric.WithAttributeSet(attribute.NewSet(kvs...))
	a.add = []metric.AddOption{opt}
	a.rec = []metric.RecordOption{opt}
	for i, c := range conditions {
		a.cond[i] = condition(kvs, c)
	}
	return a
}

func condition(kvs []attribute.KeyValue, c string) []metric.AddOption {
	kvs = append(kvs[:len(kvs):len(kvs)], ConditionKey.String(c))
	return []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(kvs...))}
}

// attrs returns the attribute set of shard id. The map is copied on write,
// so the common case is one atomic load and one map lookup, without a lock.
func (h *Hook) attrs(id string) *attrSet {
	if h.unsharded != nil {
		return h.unsharded
	}
	if a, ok := (*h.shards.Load())[id]; ok {
		return a
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	old := *h.shards.Load()
	if a, ok := old[id]; ok {
		return a
	}
	a := newAttrSet(append(h.base[:len(h.base):len(h.base)], ShardIDKey.String(id)))
	m := make(map[string]*attrSet, len(old)+1)
	maps.Copy(m, old)
	m[id] = a
	h.shards.Store(&m)
	return a
}

// forget drops the attribute set of a shard that has ended, so that a
// long-lived mapping's cache does not grow with every reshard. A later
// event of the shard would build it again.
func (h *Hook) forget(id string) {
	if h.unsharded != nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	old := *h.shards.Load()
	if _, ok := old[id]; !ok {
		return
	}
	m := maps.Clone(old)
	delete(m, id)
	h.shards.Store(&m)
}

// OnBatch records one handler call. The counting rules are esm.Stats's: a
// throttled call counts only as a throttle; any other is an invocation
// whose records count as invoked, and as failed when it returned a function
// error or listed batchItemFailures. The last relies on ItemFailures
// being 0 unless the mapping has ReportBatchItemFailures on, as
// esm.BatchEvent documents.
func (h *Hook) OnBatch(ev esm.BatchEvent) {
	ctx := context.Background()
	a := h.attrs(ev.ShardID)
	if ev.Throttled {
		h.throttles.Add(ctx, 1, a.add...)
		return
	}
	n := int64(ev.Records)
	h.invocations.Add(ctx, 1, a.add...)
	h.invoked.Add(ctx, n, a.add...)
	if ev.Err != nil {
		h.errors.Add(ctx, 1, a.add...)
	}
	if ev.Err != nil || ev.ItemFailures > 0 {
		h.failedInvoke.Add(ctx, n, a.add...)
	}
	h.duration.Record(ctx, ev.Duration.Seconds(), a.rec...)
	h.batchSize.Record(ctx, n, a.rec...)
	h.iteratorAge.Record(ctx, ev.IteratorAge.Milliseconds(), a.rec...)
}

// OnPoll records one page read from a shard. Filtered adds 0 for a page
// whose records all matched, as Lambda emits 0.
func (h *Hook) OnPoll(ev esm.PollEvent) {
	ctx := context.Background()
	a := h.attrs(ev.ShardID)
	h.polled.Add(ctx, int64(ev.Records), a.add...)
	h.filtered.Add(ctx, int64(ev.Filtered), a.add...)
	h.millisBehind.Record(ctx, ev.MillisBehindLatest, a.rec...)
}

// OnDiscard records one discarded range: delivered to the on-failure
// destination, or dropped, which includes a delivery that failed.
func (h *Hook) OnDiscard(ev esm.DiscardEvent) {
	ctx := context.Background()
	a := h.attrs(ev.ShardID)
	var opts []metric.AddOption
	for i, c := range conditions {
		if c == ev.Condition {
			opts = a.cond[i]
			break
		}
	}
	if opts == nil {
		// A condition esm may add later; discards are rare.
		opts = condition(a.kvs, ev.Condition)
	}
	n := int64(ev.Records)
	if ev.Delivered {
		h.delivered.Add(ctx, n, opts...)
		return
	}
	h.dropped.Add(ctx, n, opts...)
	if ev.DeliveryErr != nil {
		h.deliveryFailures.Add(ctx, 1, opts...)
	}
}

// OnCheckpoint records one checkpoint write.
func (h *Hook) OnCheckpoint(ev esm.CheckpointEvent) {
	ctx := context.Background()
	a := h.attrs(ev.ShardID)
	h.checkpoints.Add(ctx, 1, a.add...)
	if ev.Err != nil {
		h.checkpointFailures.Add(ctx, 1, a.add...)
		return
	}
	if ev.ShardEnded {
		// The shard's last event: its children carry on.
		h.forget(ev.ShardID)
	}
}

// OnStateChange records the mapping's new state for esm.State.
func (h *Hook) OnStateChange(_, to esm.State) {
	for i := range states {
		if states[i] == to {
			h.state.Store(&states[i]) // no allocation for a known state
			return
		}
	}
	v := to // a state esm may add later; rare
	h.state.Store(&v)
}

// observeState reports 1 for the current state and 0 for the others, so
// that every state's series exists and sums over mappings count them.
func (h *Hook) observeState(_ context.Context, o metric.Observer) error {
	cur := esm.StateCreating
	if p := h.state.Load(); p != nil {
		cur = *p
	}
	known := false
	for i, s := range states {
		v := int64(0)
		if s == cur {
			v, known = 1, true
		}
		o.ObserveInt64(h.stateObs, v, h.stateOpts[i]...)
	}
	if !known {
		// A state esm may add later.
		kvs := append(h.base[:len(h.base):len(h.base)], StateKey.String(string(cur)))
		o.ObserveInt64(h.stateObs, 1, metric.WithAttributes(kvs...))
	}
	return nil
}
