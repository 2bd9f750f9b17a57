package esm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"golang.org/x/sync/errgroup"

	"github.com/esmkit/esmkit/checkpoint"
	"github.com/esmkit/esmkit/checkpoint/memcheckpoint"
	"github.com/esmkit/esmkit/filter"
	"github.com/esmkit/esmkit/internal/backoff"
	"github.com/esmkit/esmkit/internal/event"
	"github.com/esmkit/esmkit/internal/uuid"
	"github.com/esmkit/esmkit/shard"
	"github.com/esmkit/esmkit/window"
)

// ErrMappingClosed is returned by Run when the mapping has already run.
var ErrMappingClosed = errors.New("esm: mapping closed")

// KinesisClient is the part of the Kinesis API a mapping calls.
// *kinesis.Client satisfies it, and so does *kinesistest.Client.
type KinesisClient = shard.Client

// Mapping runs a Handler over every shard of a Kinesis stream with Lambda's
// event source mapping semantics. Create one with New and start it with Run.
// A Mapping's methods are safe for concurrent use.
type Mapping struct {
	client   KinesisClient
	stream   shard.Stream
	consumer *shard.Consumer // enhanced fan-out; nil when polling
	handler  Handler         // nil with windows
	// windowHandler replaces handler when TumblingWindow is set.
	windowHandler window.Handler
	cfg           config
	log           *slog.Logger
	store         *checkpoint.Store
	ownsStore     bool
	filter        *filter.Filter // nil: deliver every record
	uuid          string         // the mapping's UUID, for on-failure records
	counters      counters
	hooks         hookSet

	// lastResult is LastProcessingResult: 0 none yet, 1 OK, 2 function
	// error.
	lastResult atomic.Int32
	cmds       chan command  // Enable, Disable, Update while Run runs
	runDone    chan struct{} // closed when Run returns

	// mu protects the fields below, and cfg and filter against Update
	// (processors read those without it: Update swaps them only while no
	// processor runs).
	mu      sync.Mutex
	state   State
	reason  string
	running bool // Run has started
	closed  bool // Run has returned
	procs   map[*processor]struct{}
}

// New returns a Mapping that reads the stream streamARN with client and calls
// h. It validates every option against Lambda's ranges and returns an error
// wrapping ErrInvalidOption that names the option, the value and the range.
// New does no I/O and starts no goroutines.
func New(client KinesisClient, streamARN string, h Handler, opts ...Option) (*Mapping, error) {
	if h == nil {
		return nil, fmt.Errorf("%w: handler is nil", ErrInvalidOption)
	}
	m, err := newMapping(client, streamARN, opts)
	if err != nil {
		return nil, err
	}
	if m.cfg.windowSize != 0 {
		return nil, fmt.Errorf("%w: TumblingWindow needs a window.Handler: use NewWindowed", ErrInvalidOption)
	}
	m.handler = h
	return m, nil
}

// NewWindowed is New for a handler of tumbling windows: the TumblingWindow
// option is required, and h receives each window's state and returns the
// next (see package window; window.Typed adapts a handler written for
// aws-lambda-go's events.KinesisTimeWindowEvent).
func NewWindowed(client KinesisClient, streamARN string, h window.Handler, opts ...Option) (*Mapping, error) {
	if h == nil {
		return nil, fmt.Errorf("%w: handler is nil", ErrInvalidOption)
	}
	m, err := newMapping(client, streamARN, opts)
	if err != nil {
		return nil, err
	}
	if m.cfg.windowSize == 0 {
		return nil, fmt.Errorf("%w: NewWindowed needs TumblingWindow between %v and %v", ErrInvalidOption, window.MinSize, window.MaxSize)
	}
	m.windowHandler = h
	return m, nil
}

func newMapping(client KinesisClient, streamARN string, opts []Option) (*Mapping, error) {
	if client == nil {
		return nil, fmt.Errorf("%w: Kinesis client is nil", ErrInvalidOption)
	}
	// A consumer ARN selects enhanced fan-out, as in Lambda; records still
	// name the stream.
	var consumer *shard.Consumer
	if shard.IsConsumerARN(streamARN) {
		c, err := shard.ParseConsumerARN(streamARN)
		if err != nil {
			return nil, fmt.Errorf("%w: EventSourceArn: %v", ErrInvalidOption, err)
		}
		if _, ok := client.(shard.FanOutClient); !ok {
			return nil, fmt.Errorf("%w: EventSourceArn %q is a stream consumer (enhanced fan-out), but the client has no SubscribeToShard", ErrInvalidOption, streamARN)
		}
		consumer, streamARN = &c, c.StreamARN
	}
	st, err := shard.ParseStreamARN(streamARN)
	if err != nil {
		return nil, fmt.Errorf("%w: EventSourceArn: %v", ErrInvalidOption, err)
	}
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	if err := cfg.validate(time.Now()); err != nil {
		return nil, err
	}
	st.ByName = cfg.streamByName
	var flt *filter.Filter
	if len(cfg.filterPatterns) > 0 {
		if flt, err = filter.Compile(cfg.filterPatterns, filter.MaxPatterns(cfg.maxFilters)); err != nil {
			return nil, fmt.Errorf("%w: FilterCriteria: %v", ErrInvalidOption, err)
		}
	}
	if cfg.name == "" {
		cfg.name = streamARN
	}
	m := &Mapping{
		client: client, stream: st, consumer: consumer, cfg: cfg, store: cfg.store, filter: flt,
		uuid:    uuid.FromName(cfg.name),
		cmds:    make(chan command),
		runDone: make(chan struct{}),
		state:   StateCreating,
		reason:  ReasonUser,
		procs:   make(map[*processor]struct{}),
		hooks:   newHookSet(cfg.hooks),
	}
	m.log = cfg.logger
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	m.log = m.log.With("mapping", cfg.name)
	if m.store == nil {
		if m.store, err = checkpoint.New(memcheckpoint.New()); err != nil {
			return nil, err
		}
		m.ownsStore = true
	}
	return m, nil
}

// Run reads and processes the stream until ctx is done or a fatal error
// occurs. When ctx is cancelled it stops reading, lets in-flight invocations
// finish within ShutdownTimeout, writes a final checkpoint for every shard
// and returns nil. Run may be called once; later calls return
// ErrMappingClosed.
func (m *Mapping) Run(ctx context.Context) error {
	m.mu.Lock()
	if m.running {
		m.mu.Unlock()
		return ErrMappingClosed
	}
	m.running = true
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.closed = true
		m.mu.Unlock()
		close(m.runDone)
	}()
	m.log.LogAttrs(ctx, slog.LevelInfo, "mapping.start", slog.String("stream", m.stream.ARN))
	err := m.coordinate(ctx)

	// Teardown, in order:
	// 1. coordinate has joined every shard goroutine, so no checkpoint can
	//    change any more;
	// 2. flush the store, with a context that outlives ctx, so the final
	//    positions are written even though ctx is done;
	// 3. close the store only if the mapping created it.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
	defer cancel()
	if ferr := m.store.Flush(fctx); ferr != nil {
		err = errors.Join(err, fmt.Errorf("esm: final checkpoint: %w", ferr))
	}
	if m.ownsStore {
		if cerr := m.store.Close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
	}
	m.log.LogAttrs(context.WithoutCancel(ctx), slog.LevelInfo, "mapping.stop")
	return err
}

const (
	flushTimeout = 30 * time.Second
	flushEvery   = time.Second
)

func (m *Mapping) key(shardID string) checkpoint.Key {
	return checkpoint.Key{Mapping: m.cfg.name, ShardID: shardID}
}

// shardInfo is what the coordinator knows of one shard.
type shardInfo struct {
	loaded  bool // checkpoint read
	cp      checkpoint.Checkpoint
	found   bool // a checkpoint exists
	running bool
	done    bool // read to its end and every record finished
	start   *shard.Position
}

// generation is one period of processing between Enable and Disable (or
// an Update). Its processors stop, draining what they have read, when drain
// is closed; wg counts them.
type generation struct {
	drain chan struct{}
	wg    sync.WaitGroup
}

// coordinate lists shards, starts a processor for every shard whose parents
// are done, lists again periodically and whenever a shard ends, and carries
// out Enable, Disable and Update. It returns when ctx is done (nil) or on a
// fatal error, after joining every processor.
func (m *Mapping) coordinate(ctx context.Context) error {
	// stop ends every shard when the coordinator itself fails.
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	g, gctx := errgroup.WithContext(sctx)
	ended := make(chan string)
	shards := make(map[string]*shardInfo)
	first := true

	if m.consumer != nil {
		fc := m.client.(shard.FanOutClient)
		if _, err := shard.WaitConsumer(ctx, fc, m.consumer.ARN); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("esm: stream consumer %s: %w", m.consumer.ARN, err)
		}
	}
	m.mu.Lock()
	enabled := m.cfg.enabled
	m.mu.Unlock()
	var gen *generation
	if enabled {
		gen = &generation{drain: make(chan struct{})}
		m.setState(StateEnabled, ReasonUser)
	} else {
		m.setState(StateDisabled, ReasonUser)
	}

	refresh := time.NewTicker(m.cfg.shardRefresh)
	defer refresh.Stop()
	// A store that coalesces writes holds back the last position of a
	// shard that went idle; flushing bounds how stale the stored one gets.
	flush := time.NewTicker(flushEvery)
	defer flush.Stop()

	// stopGen drains the running generation and waits for its processors,
	// still taking shard ends so that none blocks. Afterwards checkpoints
	// are read again, since the processors moved them.
	stopGen := func() {
		close(gen.drain)
		waited := make(chan struct{})
		go func() { gen.wg.Wait(); close(waited) }()
		for waiting := true; waiting; {
			select {
			case id := <-ended:
				shards[id].running, shards[id].done = false, true
			case <-waited:
				waiting = false
			}
		}
		for _, si := range shards {
			si.running, si.loaded = false, false
		}
		gen = nil
	}

	loop := func() error {
		for relist := true; ; {
			if gen != nil && relist {
				graph, err := m.list(gctx, first)
				if err != nil {
					return err
				}
				if graph != nil {
					if err := m.startReady(gctx, g, gen, graph, shards, first, ended); err != nil {
						return err
					}
					first = false
				}
			}
			relist = false
			select {
			case <-gctx.Done():
				return nil
			case <-refresh.C:
				relist = true
			case id := <-ended:
				shards[id].running, shards[id].done = false, true
				relist = true
			case <-flush.C:
				if err := m.store.Flush(gctx); err != nil && gctx.Err() == nil {
					m.log.LogAttrs(gctx, slog.LevelWarn, "checkpoint.flush_failed", slog.String("error", err.Error()))
				}
			case c := <-m.cmds:
				switch c.kind {
				case cmdDisable:
					if gen != nil {
						m.setState(StateDisabling, ReasonUser)
						stopGen()
					}
					m.setState(StateDisabled, ReasonUser)
				case cmdEnable:
					if gen == nil {
						m.setState(StateEnabling, ReasonUser)
						gen = &generation{drain: make(chan struct{})}
						relist = true
					}
					m.setState(StateEnabled, ReasonUser)
				case cmdUpdate:
					steady := StateDisabled
					m.setState(StateUpdating, ReasonUser)
					if gen != nil {
						steady = StateEnabled
						stopGen()
					}
					m.applyUpdate(c.update)
					if steady == StateEnabled {
						gen = &generation{drain: make(chan struct{})}
						relist = true
					}
					refresh.Reset(m.cfg.shardRefresh)
					m.setState(steady, ReasonUser)
				}
				c.reply <- nil
			}
		}
	}
	err := loop()
	m.setState(StateDeleting, ReasonUser)
	stop()
	if werr := g.Wait(); err == nil {
		err = werr
	}
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		err = nil
	}
	return err
}

// list returns the shard graph. On the first listing a non-retryable error is
// fatal (a wrong stream or missing permission); afterwards errors are logged
// and nil is returned, to try again at the next refresh.
func (m *Mapping) list(ctx context.Context, first bool) (*shard.Graph, error) {
	bo := backoff.Backoff{Initial: time.Second, Max: 5 * time.Second}
	for {
		shards, err := shard.List(ctx, m.client, m.stream)
		if err == nil {
			return shard.NewGraph(shards), nil
		}
		if ctx.Err() != nil {
			return nil, nil
		}
		if first && !retryable(err) {
			return nil, fmt.Errorf("esm: list shards of %s: %w", m.stream.ARN, err)
		}
		m.log.LogAttrs(ctx, slog.LevelWarn, "mapping.list_shards_failed", slog.String("error", err.Error()))
		if !first {
			return nil, nil
		}
		if backoff.Sleep(ctx, bo.Next()) != nil {
			return nil, nil
		}
	}
}

func (m *Mapping) startReady(ctx context.Context, g *errgroup.Group, gen *generation, graph *shard.Graph, shards map[string]*shardInfo, first bool, ended chan<- string) error {
	for _, id := range graph.IDs() {
		si := shards[id]
		if si == nil {
			si = &shardInfo{}
			shards[id] = si
		}
		if si.loaded {
			continue
		}
		cp, found, err := m.store.Load(ctx, m.key(id))
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("esm: load checkpoint of %s: %w", id, err)
		}
		si.loaded, si.cp, si.found, si.done = true, cp, found, found && cp.ShardEnded
		if found && cp.SequenceNumber != "" {
			// A checkpoint wins over the position decided earlier.
			si.start = nil
		}
	}
	done := func(id string) bool { si := shards[id]; return si != nil && si.done }
	for _, id := range graph.IDs() {
		si := shards[id]
		if si.start == nil {
			pos := m.startPosition(graph, shards, id, first)
			si.start = &pos
		}
		if si.done || si.running || !graph.Ready(id, done) {
			continue
		}
		si.running = true
		p := newProcessor(m, id, *si.start, si.cp.State)
		gen.wg.Add(1)
		g.Go(func() error {
			defer gen.wg.Done()
			m.track(p)
			defer m.untrack(p)
			end, err := p.run(ctx, gen.drain)
			if err != nil || !end {
				return err
			}
			select {
			case ended <- id:
			case <-ctx.Done():
			}
			return nil
		})
	}
	return nil
}

// startPosition decides where a shard starts. A checkpoint wins. Otherwise
// the mapping's StartingPosition applies to shards present when Run began
// whose lineage was never read; a shard that continues a lineage this
// mapping has read, or that appeared while running, starts at TRIM_HORIZON
// so that none of its records is lost.
func (m *Mapping) startPosition(graph *shard.Graph, shards map[string]*shardInfo, id string, first bool) shard.Position {
	si := shards[id]
	if si.found && si.cp.SequenceNumber != "" {
		return shard.After(si.cp.SequenceNumber)
	}
	if !first || m.inLineage(graph, shards, id, 0) {
		return shard.Position{Type: types.ShardIteratorTypeTrimHorizon}
	}
	switch m.cfg.startingPosition {
	case Latest:
		return shard.Position{Type: types.ShardIteratorTypeLatest}
	case AtTimestamp:
		return shard.Position{Type: types.ShardIteratorTypeAtTimestamp, Timestamp: m.cfg.startingTimestamp}
	default:
		return shard.Position{Type: types.ShardIteratorTypeTrimHorizon}
	}
}

// inLineage reports whether an ancestor of id has a checkpoint.
func (m *Mapping) inLineage(graph *shard.Graph, shards map[string]*shardInfo, id string, depth int) bool {
	if depth > 64 {
		return false
	}
	for _, p := range graph.Parents(id) {
		if si := shards[p]; si != nil && si.found {
			return true
		}
		if m.inLineage(graph, shards, p, depth+1) {
			return true
		}
	}
	return false
}

// retryable reports whether a Kinesis error may go away by itself.
func retryable(err error) bool {
	var (
		notFound *types.ResourceNotFoundException
		invalid  *types.InvalidArgumentException
	)
	switch {
	case errors.As(err, &notFound), errors.As(err, &invalid):
		return false
	}
	var api interface{ ErrorCode() string }
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "AccessDeniedException", "ValidationException", "UnrecognizedClientException", "InvalidSignatureException":
			return false
		}
	}
	return true
}

func (m *Mapping) source(shardID string) *event.Source {
	return &event.Source{
		StreamARN:         m.stream.ARN,
		Region:            m.stream.Region,
		InvokeIdentityARN: m.cfg.invokeIdentityARN,
		ShardID:           shardID,
	}
}
