package esm

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/esmkit/esmkit/batcher"
	"github.com/esmkit/esmkit/checkpoint"
	"github.com/esmkit/esmkit/destination"
	"github.com/esmkit/esmkit/internal/backoff"
	"github.com/esmkit/esmkit/internal/event"
	"github.com/esmkit/esmkit/internal/uuid"
	"github.com/esmkit/esmkit/kinesisfast"
	"github.com/esmkit/esmkit/parallel"
	"github.com/esmkit/esmkit/retry"
	"github.com/esmkit/esmkit/shard"
	"github.com/esmkit/esmkit/window"
)

// processor owns one shard. Its goroutines form a small tree:
//
//	run (supervisor): routes records to lanes, owns every lane's batcher,
//	│                 the watermark's checkpoint and the store writes
//	├─ read:          polls Kinesis into a one-page channel
//	└─ lane × N:      invokes one batch at a time (ParallelizationFactor)
//
// Only run touches the batchers and saves checkpoints; lanes report what
// they finished on the progress channel. Each lane has at most one batch in
// flight, which keeps a partition key's records in order.
type processor struct {
	m       *Mapping
	shardID string
	start   shard.Position
	src     *event.Source
	log     *slog.Logger
	lanes   []*lane
	wm      parallel.Watermark
	saved   string // last sequence number saved
	status  status // published for Mapping.Shards

	// With tumbling windows: each lane's persisted tracker, as last
	// reported, and whether the store has it yet.
	states     []json.RawMessage
	stateDirty bool
}

// lane is the supervisor's view of one lane.
type lane struct {
	batch *batcher.Batcher[events.KinesisEventRecord]
	in    chan job // to the lane goroutine; unbuffered
	busy  bool     // a job is in flight
	// tracker is the lane's tumbling window, nil without windows. The
	// supervisor uses it only while the lane is idle, the lane only while
	// busy; the in and progress channels order the two.
	tracker *window.Tracker
}

// job is what the supervisor hands a lane: a batch of records, or the
// final invocation of the lane's tumbling window.
type job struct {
	recs  []events.KinesisEventRecord
	final bool
}

// progress is what a lane reports: n more of its oldest records finished,
// the lane's window tracker if it changed, and whether the job is done.
type progress struct {
	lane  int
	n     int
	state json.RawMessage
	done  bool
}

func newProcessor(m *Mapping, shardID string, start shard.Position, state []byte) *processor {
	src := m.source(shardID)
	sizer := event.NewSizer(src)
	p := &processor{
		m:       m,
		shardID: shardID,
		start:   start,
		src:     src,
		log:     m.log.With("shard", shardID),
	}
	for range m.cfg.parallelization {
		b, err := batcher.New(batcher.Limits{
			Count: m.cfg.batchSize,
			// Lambda refuses requests of 6,291,456 bytes or more ("must be
			// smaller than"), so the largest batch is one byte less.
			Bytes:  event.MaxPayload - 1,
			Window: m.cfg.batchingWindow,
		}, batcher.Size[events.KinesisEventRecord]{
			Item:      sizeFunc(sizer),
			Envelope:  event.EventEnvelope,
			Separator: event.RecordSeparator,
		})
		if err != nil {
			// validate has checked every limit; a failure here is a bug.
			panic(err)
		}
		p.lanes = append(p.lanes, &lane{batch: b, in: make(chan job)})
	}
	if m.windowHandler != nil {
		p.restoreWindows(state)
	}
	if start.Type == types.ShardIteratorTypeAfterSequenceNumber {
		// Resuming: the checkpoint is already finished.
		p.saved = start.SequenceNumber
	}
	return p
}

// sizeFunc measures records for a lane's batcher. Records read together
// mostly share an arrival timestamp, so the last one's size is kept: the
// float formatting it needs is the costliest part of sizing a record.
func sizeFunc(z event.Sizer) func(*events.KinesisEventRecord) int {
	var last time.Time
	lastSize := -1
	return func(r *events.KinesisEventRecord) int {
		t := r.Kinesis.ApproximateArrivalTimestamp
		if lastSize < 0 || !t.Time.Equal(last) {
			last, lastSize = t.Time, event.TimestampSize(t)
		}
		return z.SizeWithTimestamp(r, lastSize)
	}
}

// run processes the shard until it ends (true), ctx is done, or drain is
// closed and everything read has been finished (false). A drain that takes
// longer than ShutdownTimeout becomes a stop like ctx's.
func (p *processor) run(ctx context.Context, drain <-chan struct{}) (ended bool, err error) {
	p.log.LogAttrs(ctx, slog.LevelInfo, "shard.start",
		slog.String("position", string(p.start.Type)), slog.String("sequence", p.start.SequenceNumber),
		slog.Int("lanes", len(p.lanes)))

	// stopCtx ends retries and new invocations: when ctx ends, or when a
	// drain runs out of time. Invocations run under invokeCtx, which
	// outlives stopCtx by ShutdownTimeout so that an in-flight batch can
	// finish.
	stopCtx, stopAll := context.WithCancel(ctx)
	defer stopAll()
	invokeCtx, cancelInvoke := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelInvoke()
	stopGrace := context.AfterFunc(stopCtx, func() {
		time.AfterFunc(p.m.cfg.shutdownTimeout, cancelInvoke)
	})
	defer stopGrace()

	readCtx, stopRead := context.WithCancel(ctx)
	// Unbuffered: the reader holds at most the one page run has not taken.
	// Every page waiting here is memory the garbage collector marks again
	// on each cycle, so a deeper queue costs CPU without adding overlap.
	pages := make(chan readPage)
	readerDone := make(chan struct{})
	go p.read(readCtx, pages, readerDone)

	prog := make(chan progress, len(p.lanes))
	lanesDone := make(chan struct{}, len(p.lanes))
	for i, l := range p.lanes {
		go p.runLane(stopCtx, invokeCtx, i, l.in, prog, lanesDone)
	}

	// Teardown, in order: 1. stop reading, so no new record arrives;
	// 2. close the lanes' inputs and wait for each lane, applying its
	// progress, so a batch in flight finishes (within ShutdownTimeout) and
	// counts; 3. save the final position. The reader is joined too, so no
	// goroutine outlives run.
	defer func() {
		stopRead()
		<-readerDone
		for _, l := range p.lanes {
			close(l.in)
		}
		for range p.lanes {
			for waiting := true; waiting; {
				select {
				case pr := <-prog:
					p.apply(pr)
				case <-lanesDone:
					waiting = false
				}
			}
		}
		// Progress sent just before a lane exited.
		for len(prog) > 0 {
			p.apply(<-prog)
		}
		p.save(ctx, ended)
	}()

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()

	// run takes the next page only while fewer records are pending than
	// the lanes' batches hold. While a lane invokes a full batch, the next
	// page waits, read and converted, with the reader. Pending records are
	// what the garbage collector marks on every cycle, so a deeper
	// read-ahead costs CPU without adding overlap.
	maxPending := len(p.lanes) * p.m.cfg.batchSize
	if len(p.lanes) > 1 {
		// A page's records spread unevenly over several lanes: one more
		// page keeps busy the lanes that run out first.
		maxPending += shard.MaxLimit
	}
	var endSeen, draining bool
	var drainTimeout <-chan time.Time
	for {
		now := time.Now()
		p.dispatch(now, endSeen || draining, endSeen && !draining)
		if endSeen && p.idle() && p.windowsClosed() {
			p.log.LogAttrs(ctx, slog.LevelInfo, "shard.end", slog.String("sequence", p.saved))
			return true, nil
		}
		if draining && p.idle() {
			return false, nil
		}
		var recv <-chan readPage
		if !endSeen && !draining && p.wm.Pending() < maxPending {
			recv = pages
		}
		var wake <-chan time.Time
		if d, ok := p.deadline(); ok && !draining {
			timer.Reset(time.Until(d))
			wake = timer.C
		}
		select {
		case <-ctx.Done():
			return false, nil
		case <-drainTimeout:
			// Records read but not finished are read again after the
			// checkpoint next time.
			stopAll()
			return false, nil
		case <-drain:
			// Finish what has been read, then stop: no new reads, partial
			// batches go at once.
			drain, draining = nil, true
			stopRead()
			t := time.NewTimer(p.m.cfg.shutdownTimeout)
			defer t.Stop()
			drainTimeout = t.C
		case page, ok := <-recv:
			if !ok {
				// The reader stops early only when ctx is done.
				return false, nil
			}
			p.add(now, page)
			endSeen = page.End
		case pr := <-prog:
			p.apply(pr)
		case <-wake:
		}
		timer.Stop()
	}
}

// dispatch hands a batch to every idle lane whose batcher is ready. At the
// shard's end partial batches go at once: no more records will come.
func (p *processor) dispatch(now time.Time, flush, endSeen bool) {
	for _, l := range p.lanes {
		if l.busy {
			continue
		}
		if l.tracker != nil {
			if j, ok := p.windowJob(l, now, flush, endSeen); ok {
				p.send(l, j)
			}
			continue
		}
		if l.batch.Len() == 0 || !(flush || l.batch.Ready(now)) {
			continue
		}
		p.send(l, job{recs: l.batch.Take(now)})
	}
}

// send hands j to idle lane l.
func (p *processor) send(l *lane, j job) {
	l.busy = true
	p.status.mu.Lock()
	p.status.inFlight++
	p.status.mu.Unlock()
	l.in <- j
}

// idle reports whether every lane is done and every record finished.
func (p *processor) idle() bool {
	for _, l := range p.lanes {
		if l.busy || l.batch.Len() > 0 {
			return false
		}
	}
	return p.wm.Pending() == 0
}

// deadline is the earliest batching-window deadline of an idle lane.
func (p *processor) deadline() (time.Time, bool) {
	var min time.Time
	for _, l := range p.lanes {
		if l.busy {
			continue
		}
		if d, ok := l.batch.Deadline(); ok && (min.IsZero() || d.Before(min)) {
			min = d
		}
		if l.tracker != nil && l.batch.Len() == 0 {
			if d, ok := l.tracker.Deadline(); ok && (min.IsZero() || d.Before(min)) {
				min = d
			}
		}
	}
	return min, !min.IsZero()
}

// apply records a lane's progress and saves the checkpoint if it moved.
func (p *processor) apply(pr progress) {
	moved := pr.n > 0 && p.wm.Finish(pr.lane, pr.n)
	if pr.state != nil {
		p.states[pr.lane], p.stateDirty = pr.state, true
	}
	if moved || pr.state != nil {
		p.save(context.Background(), false)
	}
	p.status.mu.Lock()
	p.status.pending = p.wm.Pending()
	if pr.done {
		p.status.inFlight--
	}
	p.status.mu.Unlock()
	if pr.done {
		l := p.lanes[pr.lane]
		l.busy = false
		// Lambda starts the next batching window when the previous
		// invocation completes.
		l.batch.StartWindow(time.Now())
	}
}

// read reads the shard — polling GetRecords, or through the enhanced
// fan-out consumer — and hands pages to run until the shard ends or ctx is
// done. The channel is unbuffered, so the reader holds at most one page
// that run has not taken, which bounds read-ahead.
func (p *processor) read(ctx context.Context, pages chan<- readPage, done chan<- struct{}) {
	defer close(done)
	defer close(pages)
	r := p.reader()
	if c, ok := r.(interface{ Close() error }); ok {
		defer func() { _ = c.Close() }()
	}
	bo := backoff.Backoff{Initial: time.Second, Max: 30 * time.Second}
	// Sizes are measured here only for a page that becomes a lane's queue
	// whole; records spread over lanes are measured as they are added.
	var size func(*events.KinesisEventRecord) int
	if p.pageIsQueue() {
		size = sizeFunc(event.NewSizer(p.src))
	}
	// With the fast decoder, GetRecords decodes pages straight into event
	// records; convert takes them instead of converting the SDK's records.
	var ev *kinesisfast.EventPage
	rctx := ctx
	if p.m.cfg.fastDecode && p.m.consumer == nil {
		ev = &kinesisfast.EventPage{StreamARN: p.src.StreamARN, Region: p.src.Region,
			InvokeIdentityARN: p.src.InvokeIdentityARN, ShardID: p.src.ShardID}
		rctx = kinesisfast.WithEventPage(ctx, ev)
	}
	for {
		if ev != nil {
			// Filled from here on means filled by this Next's last
			// successful call, which is the page it returns.
			ev.Records, ev.Filled = nil, false
		}
		page, err := r.Next(rctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			// Readers retry what may pass by itself; what is left (a deleted
			// stream or consumer, a missing permission) is retried slowly so
			// that the shard resumes once it is fixed.
			d := bo.Next()
			p.log.LogAttrs(ctx, slog.LevelError, "shard.read_failed",
				slog.Duration("backoff", d), slog.String("error", err.Error()))
			if backoff.Sleep(ctx, d) != nil {
				return
			}
			continue
		}
		bo.Reset()
		// Empty pages are handed over too: they carry MillisBehindLatest
		// and count as polls.
		rp := p.convert(page, ev, size) // page is dead from here on
		select {
		case pages <- rp:
		case <-ctx.Done():
			return
		}
		if rp.End {
			return
		}
	}
}

// reader returns the shard's reader, built once for the processor's life:
// a Subscriber must not be replaced mid-stream, or Kinesis refuses the new
// subscription for 5 s.
func (p *processor) reader() shard.Reader {
	if c := p.m.consumer; c != nil {
		return shard.NewSubscriber(shard.SubscriberConfig{
			Client:      p.m.client.(shard.FanOutClient),
			ConsumerARN: c.ARN,
			ShardID:     p.shardID,
			Start:       p.start,
			Logger:      p.m.log,
		})
	}
	var minInterval time.Duration = -1
	if r := p.m.cfg.readRateLimit; r > 0 {
		minInterval = time.Second / time.Duration(r)
	}
	var callOpts []func(*kinesis.Options)
	if p.m.cfg.fastDecode {
		callOpts = append(callOpts, kinesis.WithAPIOptions(kinesisfast.AddDecoderIfAvailable))
	}
	return shard.NewPoller(shard.PollerConfig{
		CallOptions:  callOpts,
		Client:       p.m.client,
		Stream:       p.m.stream,
		ShardID:      p.shardID,
		Start:        p.start,
		PollInterval: p.m.cfg.pollInterval,
		MinInterval:  minInterval,
		Logger:       p.m.log,
	})
}

// readPage is a page converted by the reader: the Lambda event record of
// each of its records and their sizes, without the SDK's records.
type readPage struct {
	shard.Page
	events []events.KinesisEventRecord
	sizes  []int
}

// convert turns page's records into Lambda event records, once, sharing
// Data, and measures each with size, if not nil, while it is in cache. It
// takes the records the fast decoder built in ev, if it filled ev. It runs
// on the reader's goroutine, as soon as the page is read, so the SDK's
// records (several objects each) are garbage at once instead of waiting,
// marked by every collection, until run takes the page.
func (p *processor) convert(page shard.Page, ev *kinesisfast.EventPage, size func(*events.KinesisEventRecord) int) readPage {
	rp := readPage{Page: page}
	rp.Records = nil
	if len(page.Records) == 0 {
		return rp
	}
	decoded := ev != nil && ev.Filled && len(ev.Records) == len(page.Records)
	if decoded {
		rp.events = ev.Records
		ev.Records = nil
	} else {
		rp.events = make([]events.KinesisEventRecord, len(page.Records))
	}
	if size != nil {
		rp.sizes = make([]int, len(page.Records))
	}
	for i := 0; i < len(rp.events); i += convertChunk {
		j := min(i+convertChunk, len(rp.events))
		if !decoded {
			event.ConvertPage(rp.events[i:j], p.src, page.Records[i:j])
		}
		for k := i; size != nil && k < j; k++ {
			rp.sizes[k] = size(&rp.events[k])
		}
	}
	return rp
}

// convertChunk is how many records convert converts before measuring them:
// few enough (224 bytes each) to stay in a core's L1 cache.
const convertChunk = 128

// pageIsQueue reports whether every record of a page goes to the one lane:
// no filter, ParallelizationFactor 1. Then the page's array becomes the
// lane's queue.
func (p *processor) pageIsQueue() bool { return len(p.lanes) == 1 && p.m.filter == nil }

// add routes a page's records in shard order: each is finished at once
// (filtered out) or goes to its partition key's lane.
func (p *processor) add(now time.Time, page readPage) {
	p.status.mu.Lock()
	p.status.millisBehind = page.MillisBehindLatest
	p.status.mu.Unlock()
	recs := page.events
	if len(recs) == 0 {
		p.polled(page, 0)
		return
	}
	p.m.counters.polled.Add(int64(len(recs)))
	if p.pageIsQueue() {
		// The common case: the page's array becomes the lane's queue.
		p.lanes[0].batch.AddOwned(now, recs, page.sizes)
		p.wm.RegisterEach(0, len(recs), func(i int) string { return recs[i].Kinesis.SequenceNumber })
		p.polled(page, 0)
		return
	}
	filtered := 0
	for i := range recs {
		r := &recs[i]
		if p.m.filter != nil && !p.m.filter.MatchEventRecord(r) {
			// Filtered out: finished without an invocation, never
			// delivered again.
			p.wm.Skip(r.Kinesis.SequenceNumber)
			filtered++
			continue
		}
		l := 0
		if len(p.lanes) > 1 {
			l = parallel.Lane(r.Kinesis.PartitionKey, len(p.lanes))
		}
		p.wm.Register(l, r.Kinesis.SequenceNumber)
		p.lanes[l].batch.Add(now, *r)
	}
	p.polled(page, filtered)
	if filtered > 0 {
		p.m.counters.filtered.Add(int64(filtered))
		// A page whose records are all filtered out still moves the
		// checkpoint.
		p.save(context.Background(), false)
	}
}

// polled publishes a page that was read.
func (p *processor) polled(page readPage, filtered int) {
	p.status.mu.Lock()
	p.status.pending = p.wm.Pending()
	p.status.mu.Unlock()
	for _, h := range p.m.hooks.poll {
		h.OnPoll(PollEvent{ShardID: p.shardID, Records: len(page.events), Filtered: filtered, MillisBehindLatest: page.MillisBehindLatest})
	}
}

// runLane runs the jobs it receives, one at a time, until in is closed. It
// reports progress on prog, the last report of each job with done set, and
// signals lanesDone when it exits.
func (p *processor) runLane(ctx, invokeCtx context.Context, id int, in <-chan job, prog chan<- progress, lanesDone chan<- struct{}) {
	defer func() { lanesDone <- struct{}{} }()
	for j := range in {
		if j.final {
			p.finalWindow(ctx, invokeCtx, id, prog)
			prog <- progress{lane: id, done: true}
			continue
		}
		n := p.process(ctx, invokeCtx, id, j.recs, prog)
		prog <- progress{lane: id, n: n, done: true}
	}
}

// process runs recs through the failure policy: invoke, and on failure
// wait, retry, bisect or discard as the retry.Plan says, until every record
// is finished or ctx ends. Finished prefixes are reported on prog as they
// happen, so the checkpoint moves past records before a partial failure;
// the return value is the count finished but not yet reported. Records not
// finished when ctx ends are not checkpointed and are delivered again on the
// next Run.
func (p *processor) process(ctx, invokeCtx context.Context, id int, recs []events.KinesisEventRecord, prog chan<- progress) int {
	pl := retry.NewPlan(p.m.cfg.policy, recs, nil)
	reported := 0
	var last invocation
	var state json.RawMessage // the window tracker after an invocation
	for {
		a := pl.Next(time.Now())
		switch a.Kind {
		case retry.Done:
			return pl.Finished() - reported
		case retry.Wait:
			if backoff.Sleep(ctx, a.Delay) != nil {
				return pl.Finished() - reported
			}
		case retry.Invoke:
			if ctx.Err() != nil {
				// Shutting down: start nothing new.
				return pl.Finished() - reported
			}
			batch := recs[a.Lo:a.Hi]
			last = invocation{requestID: uuid.New(), statusCode: 200, executedVersion: "$LATEST"}
			began := time.Now()
			var resp events.KinesisEventResponse
			var err error
			if tr := p.lanes[id].tracker; tr != nil {
				resp, err = p.invokeWindow(invokeCtx, tr, tr.Next(batch))
				state = p.laneState(id)
			} else {
				resp, err = p.invoke(invokeCtx, batch)
			}
			took := time.Since(began)
			var out retry.Outcome
			var throttle *ThrottleError
			if errors.As(err, &throttle) {
				out = retry.Throttled(err)
			} else {
				out = retry.Result(resp, err)
			}
			pl.Report(time.Now(), out)
			p.count(batch, resp, err, throttle != nil)
			p.invoked(id, batch, a.Attempt, began, took, resp, err, throttle != nil)
			switch {
			case throttle != nil:
				last.statusCode = throttle.statusCode()
			case err != nil:
				last.functionError = "Unhandled"
			}
			if err != nil {
				p.log.LogAttrs(ctx, slog.LevelWarn, "batch.failed",
					slog.String("first_sequence", batch[0].Kinesis.SequenceNumber),
					slog.String("last_sequence", batch[len(batch)-1].Kinesis.SequenceNumber),
					slog.Int("size", len(batch)), slog.Int("attempt", a.Attempt),
					slog.Bool("throttled", throttle != nil), slog.String("error", err.Error()))
			}
		case retry.Discard:
			p.discard(ctx, recs[a.Lo:a.Hi], a, &last)
		}
		if f := pl.Finished(); f > reported || state != nil {
			prog <- progress{lane: id, n: f - reported, state: state}
			reported, state = f, nil
		}
	}
}

// invoked publishes one handler call.
func (p *processor) invoked(lane int, batch []events.KinesisEventRecord, attempt int, began time.Time, took time.Duration, resp events.KinesisEventResponse, err error, throttled bool) {
	age := began.Sub(batch[len(batch)-1].Kinesis.ApproximateArrivalTimestamp.Time)
	p.status.mu.Lock()
	p.status.iteratorAge = age
	if err != nil && !throttled {
		p.status.errors++
	}
	p.status.mu.Unlock()
	switch {
	case throttled:
	case err != nil:
		p.m.lastResult.Store(2)
	default:
		p.m.lastResult.Store(1)
	}
	if len(p.m.hooks.batch) == 0 {
		return
	}
	ev := BatchEvent{
		ShardID: p.shardID, Lane: lane, Records: len(batch),
		FirstSequenceNumber: batch[0].Kinesis.SequenceNumber,
		LastSequenceNumber:  batch[len(batch)-1].Kinesis.SequenceNumber,
		Attempt:             attempt, Duration: took, IteratorAge: age,
		Throttled: throttled,
	}
	if p.m.cfg.policy.ReportBatchItemFailures {
		ev.ItemFailures = len(resp.BatchItemFailures)
	}
	if !throttled {
		ev.Err = err
	}
	for _, h := range p.m.hooks.batch {
		h.OnBatch(ev)
	}
}

// count updates the invocation counters for one call of the handler.
func (p *processor) count(batch []events.KinesisEventRecord, resp events.KinesisEventResponse, err error, throttled bool) {
	c := &p.m.counters
	n := int64(len(batch))
	if throttled {
		// The batch never reached the function (spec 10.3).
		c.throttles.Add(1)
		return
	}
	c.invocations.Add(1)
	switch {
	case err != nil:
		c.errors.Add(1)
		c.failedInvoke.Add(n)
	case p.m.cfg.policy.ReportBatchItemFailures && len(resp.BatchItemFailures) > 0:
		c.failedInvoke.Add(n)
	}
	c.invoked.Add(n)
}

// discard gives up records the policy will not retry again. They are
// finished whatever happens here: the checkpoint passes them. With an
// OnFailure destination their invocation record is delivered first; a
// delivery that fails is counted and logged, and the shard goes on (spec
// 11.4). The delivery uses a context detached from ctx so that a discard
// decided before shutdown is still reported.
func (p *processor) discard(ctx context.Context, recs []events.KinesisEventRecord, a retry.Action, last *invocation) {
	n := int64(len(recs))
	attrs := []slog.Attr{
		slog.String("condition", string(a.Condition)),
		slog.String("first_sequence", recs[0].Kinesis.SequenceNumber),
		slog.String("last_sequence", recs[len(recs)-1].Kinesis.SequenceNumber),
		slog.Int("size", len(recs)), slog.Int("invoke_count", a.InvokeCount),
	}
	if a.Err != nil {
		attrs = append(attrs, slog.String("error", a.Err.Error()))
	}
	d := p.m.cfg.onFailure
	if d == nil {
		p.m.counters.dropped.Add(n)
		p.log.LogAttrs(ctx, slog.LevelWarn, "batch.discarded", attrs...)
		p.discarded(DiscardEvent{ShardID: p.shardID, Records: len(recs), Condition: string(a.Condition)})
		return
	}
	inv := &destination.Invocation{
		RequestID:                       last.requestID,
		FunctionARN:                     p.m.cfg.functionARN,
		Condition:                       destination.Condition(a.Condition),
		ApproximateInvokeCount:          a.InvokeCount,
		StatusCode:                      last.statusCode,
		ExecutedVersion:                 last.executedVersion,
		FunctionError:                   last.functionError,
		Timestamp:                       time.Now(),
		ShardID:                         p.shardID,
		StartSequenceNumber:             recs[0].Kinesis.SequenceNumber,
		EndSequenceNumber:               recs[len(recs)-1].Kinesis.SequenceNumber,
		ApproximateArrivalOfFirstRecord: recs[0].Kinesis.ApproximateArrivalTimestamp.Time,
		ApproximateArrivalOfLastRecord:  recs[len(recs)-1].Kinesis.ApproximateArrivalTimestamp.Time,
		BatchSize:                       len(recs),
		StreamARN:                       p.m.stream.ARN,
		MappingUUID:                     p.m.uuid,
		Event:                           events.KinesisEvent{Records: recs},
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
	defer cancel()
	if err := d.Send(sctx, inv); err != nil {
		p.m.counters.deliveryFailures.Add(1)
		p.m.counters.dropped.Add(n)
		p.log.LogAttrs(ctx, slog.LevelError, "destination.delivery_failed",
			append(attrs, slog.String("delivery_error", err.Error()))...)
		p.discarded(DiscardEvent{ShardID: p.shardID, Records: len(recs), Condition: string(a.Condition), DeliveryErr: err})
		return
	}
	p.m.counters.delivered.Add(n)
	p.log.LogAttrs(ctx, slog.LevelWarn, "batch.discarded", append(attrs, slog.Bool("delivered", true))...)
	p.discarded(DiscardEvent{ShardID: p.shardID, Records: len(recs), Condition: string(a.Condition), Delivered: true})
}

func (p *processor) discarded(ev DiscardEvent) {
	for _, h := range p.m.hooks.discard {
		h.OnDiscard(ev)
	}
}

// invocation is what the on-failure record says of the last invocation.
type invocation struct {
	requestID       string
	statusCode      int
	executedVersion string
	functionError   string // "" for none, as after a partial batch response
}

func (p *processor) invoke(ctx context.Context, recs []events.KinesisEventRecord) (events.KinesisEventResponse, error) {
	if t := p.m.cfg.functionTimeout; t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	return call(ctx, p.m.handler, events.KinesisEvent{Records: recs})
}

// save writes the watermark's checkpoint, and the shard's end when ended.
// Errors are logged and the shard goes on: the next save, or the final
// flush, writes the position.
func (p *processor) save(ctx context.Context, ended bool) {
	if seq, moved := p.wm.Checkpoint(); moved {
		p.saved = seq
	} else if !ended && !p.stateDirty {
		return
	}
	if p.saved == "" && !ended && !p.stateDirty {
		return
	}
	cp := checkpoint.Checkpoint{SequenceNumber: p.saved, ShardEnded: ended}
	if p.states != nil {
		cp.State = p.encodeWindows()
		p.stateDirty = false
	}
	// A finished batch is recorded even when shutdown has begun: it is the
	// position the final flush writes, and a shard's end must be recorded or
	// its children would wait for it forever.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
	defer cancel()
	err := p.m.store.Save(sctx, p.m.key(p.shardID), cp)
	if err != nil {
		p.log.LogAttrs(ctx, slog.LevelWarn, "checkpoint.save_failed",
			slog.String("sequence", p.saved), slog.String("error", err.Error()))
	}
	p.status.mu.Lock()
	p.status.checkpoint = p.saved
	p.status.mu.Unlock()
	for _, h := range p.m.hooks.ckpt {
		h.OnCheckpoint(CheckpointEvent{ShardID: p.shardID, SequenceNumber: p.saved, ShardEnded: ended, Err: err})
	}
}
