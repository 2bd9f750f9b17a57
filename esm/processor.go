package esm

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/esmkit/esmkit/batcher"
	"github.com/esmkit/esmkit/checkpoint"
	"github.com/esmkit/esmkit/internal/backoff"
	"github.com/esmkit/esmkit/internal/event"
	"github.com/esmkit/esmkit/shard"
)

// readAhead is how many records a shard holds beyond the batch being
// invoked before it stops reading: one full GetRecords page.
const readAhead = shard.MaxLimit

// processor owns one shard: a reader goroutine that polls Kinesis into a
// one-page channel, and the loop in run that batches, invokes and
// checkpoints. Only run's goroutine touches the batcher and the checkpoint
// position.
type processor struct {
	m       *Mapping
	shardID string
	start   shard.Position
	src     *event.Source
	log     *slog.Logger
	batch   *batcher.Batcher[events.KinesisEventRecord]
	lastSeq string // last finished sequence number
}

func newProcessor(m *Mapping, shardID string, start shard.Position) *processor {
	src := m.source(shardID)
	sizer := event.NewSizer(src)
	b, err := batcher.New(batcher.Limits{
		Count:  m.cfg.batchSize,
		Bytes:  event.MaxPayload,
		Window: m.cfg.batchingWindow,
	}, batcher.Size[events.KinesisEventRecord]{
		Item:      func(r events.KinesisEventRecord) int { return sizer.Size(&r) },
		Envelope:  event.EventEnvelope,
		Separator: event.RecordSeparator,
	})
	if err != nil {
		// validate has checked every limit; a failure here is a bug.
		panic(err)
	}
	p := &processor{
		m:       m,
		shardID: shardID,
		start:   start,
		src:     src,
		log:     m.log.With("shard", shardID),
		batch:   b,
	}
	if start.Type == types.ShardIteratorTypeAfterSequenceNumber {
		// Resuming: the checkpoint is already finished.
		p.lastSeq = start.SequenceNumber
	}
	return p
}

// run processes the shard until it ends (true) or ctx is done (false).
func (p *processor) run(ctx context.Context) (ended bool, err error) {
	p.log.LogAttrs(ctx, slog.LevelInfo, "shard.start",
		slog.String("position", string(p.start.Type)), slog.String("sequence", p.start.SequenceNumber))

	// Invocations run under invokeCtx, which outlives ctx by
	// ShutdownTimeout so that an in-flight batch can finish.
	invokeCtx, cancelInvoke := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelInvoke()
	stopDrain := context.AfterFunc(ctx, func() {
		time.AfterFunc(p.m.cfg.shutdownTimeout, cancelInvoke)
	})
	defer stopDrain()

	readCtx, stopRead := context.WithCancel(ctx)
	pages := make(chan shard.Page, 1)
	readerDone := make(chan struct{})
	go p.read(readCtx, pages, readerDone)
	// The reader is stopped and joined before run returns, whatever the path.
	defer func() { stopRead(); <-readerDone }()

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()

	var endSeen bool
	for {
		now := time.Now()
		if p.batch.Len() > 0 && (p.batch.Ready(now) || endSeen) {
			recs := p.batch.Take(now)
			if !p.process(ctx, invokeCtx, recs) {
				return false, nil
			}
			// Lambda starts the next batching window when the previous
			// invocation completes.
			p.batch.StartWindow(time.Now())
			continue
		}
		if endSeen {
			p.save(ctx, true)
			p.log.LogAttrs(ctx, slog.LevelInfo, "shard.end", slog.String("sequence", p.lastSeq))
			return true, nil
		}
		var recv <-chan shard.Page
		if p.batch.Len() < readAhead {
			recv = pages
		}
		var wake <-chan time.Time
		if d, ok := p.batch.Deadline(); ok {
			timer.Reset(time.Until(d))
			wake = timer.C
		}
		select {
		case <-ctx.Done():
			return false, nil
		case page, ok := <-recv:
			if !ok {
				// The reader stops early only when ctx is done.
				return false, nil
			}
			p.add(now, page)
			endSeen = page.End
		case <-wake:
		}
		timer.Stop()
	}
}

// read polls the shard and hands pages to run until the shard ends or ctx
// is done. The channel holds one page, which bounds read-ahead.
func (p *processor) read(ctx context.Context, pages chan<- shard.Page, done chan<- struct{}) {
	defer close(done)
	defer close(pages)
	var minInterval time.Duration = -1
	if r := p.m.cfg.readRateLimit; r > 0 {
		minInterval = time.Second / time.Duration(r)
	}
	poller := shard.NewPoller(shard.PollerConfig{
		Client:       p.m.client,
		Stream:       p.m.stream,
		ShardID:      p.shardID,
		Start:        p.start,
		PollInterval: p.m.cfg.pollInterval,
		MinInterval:  minInterval,
		Logger:       p.m.log,
	})
	for {
		page, err := poller.Next(ctx)
		if err != nil {
			return
		}
		if len(page.Records) == 0 && !page.End {
			continue
		}
		select {
		case pages <- page:
		case <-ctx.Done():
			return
		}
		if page.End {
			return
		}
	}
}

// add converts a page's records to Lambda event records, once, sharing Data.
func (p *processor) add(now time.Time, page shard.Page) {
	if len(page.Records) == 0 {
		return
	}
	recs := make([]events.KinesisEventRecord, len(page.Records))
	for i := range page.Records {
		event.Convert(&recs[i], p.src, &page.Records[i])
	}
	p.batch.Add(now, recs...)
}

// process invokes the handler with recs until it succeeds, then checkpoints.
// Until the failure-handling policy is configurable, a failed batch is
// retried with jittered backoff for as long as it fails, blocking the shard,
// as Lambda does by default. It returns false if ctx ended first; the batch
// is then not checkpointed and is delivered again on the next Run.
func (p *processor) process(ctx, invokeCtx context.Context, recs []events.KinesisEventRecord) bool {
	bo := backoff.Backoff{Initial: p.m.cfg.retryInitial, Max: p.m.cfg.retryMax}
	for {
		if ctx.Err() != nil {
			return false
		}
		err := p.invoke(invokeCtx, recs)
		if err == nil {
			p.lastSeq = recs[len(recs)-1].Kinesis.SequenceNumber
			p.save(ctx, false)
			return true
		}
		d := bo.Next()
		p.log.LogAttrs(ctx, slog.LevelWarn, "batch.failed",
			slog.String("first_sequence", recs[0].Kinesis.SequenceNumber),
			slog.String("last_sequence", recs[len(recs)-1].Kinesis.SequenceNumber),
			slog.Int("size", len(recs)), slog.Int("attempt", bo.Attempts()),
			slog.Duration("backoff", d), slog.String("error", err.Error()))
		if backoff.Sleep(ctx, d) != nil {
			return false
		}
	}
}

func (p *processor) invoke(ctx context.Context, recs []events.KinesisEventRecord) error {
	if t := p.m.cfg.functionTimeout; t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	_, err := call(ctx, p.m.handler, events.KinesisEvent{Records: recs})
	return err
}

// save records the last finished sequence number. Errors are logged and the
// shard goes on: the next save, or the final flush, writes the position.
func (p *processor) save(ctx context.Context, ended bool) {
	if p.lastSeq == "" && !ended {
		return
	}
	cp := checkpoint.Checkpoint{SequenceNumber: p.lastSeq, ShardEnded: ended}
	// A finished batch is recorded even when shutdown has begun: it is the
	// position the final flush writes, and a shard's end must be recorded or
	// its children would wait for it forever.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
	defer cancel()
	if err := p.m.store.Save(sctx, p.m.key(p.shardID), cp); err != nil {
		p.log.LogAttrs(ctx, slog.LevelWarn, "checkpoint.save_failed",
			slog.String("sequence", p.lastSeq), slog.String("error", err.Error()))
	}
}
