package shard

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/esmkit/esmkit/internal/backoff"
)

// Position is where reading of a shard starts: one of Kinesis's iterator
// types, with SequenceNumber for AT_/AFTER_SEQUENCE_NUMBER and Timestamp
// for AT_TIMESTAMP.
type Position struct {
	Type           types.ShardIteratorType
	SequenceNumber string
	Timestamp      time.Time
}

// After returns the position just after sequence number seq.
func After(seq string) Position {
	return Position{Type: types.ShardIteratorTypeAfterSequenceNumber, SequenceNumber: seq}
}

// MaxLimit is the most records one GetRecords call may ask for.
const MaxLimit = 10000

// PollerConfig configures a [Poller]. Client, Stream, ShardID and Start are
// required; zero values of the rest select the defaults given.
type PollerConfig struct {
	Client  Client
	Stream  Stream
	ShardID string
	Start   Position

	// Limit is GetRecords' Limit, 1–10,000; default 10,000.
	Limit int32
	// PollInterval is the wait between calls once the shard is caught up;
	// default 1 s, as Lambda polls.
	PollInterval time.Duration
	// MinInterval is the least time between two GetRecords calls while the
	// shard is behind. Kinesis allows 5 calls per second per shard, so the
	// default is 200 ms; a negative value removes the floor (useful against
	// in-memory fakes).
	MinInterval time.Duration
	// BackoffInitial and BackoffMax bound the jittered exponential wait
	// after throttling and service errors; defaults 1 s and 5 s.
	BackoffInitial time.Duration
	BackoffMax     time.Duration
	// Logger receives warnings about retried errors; default discards.
	Logger *slog.Logger
	// CallTimeout bounds each GetShardIterator and GetRecords call, so a
	// server that never answers cannot stall the shard; default 30 s.
	CallTimeout time.Duration
	// CallOptions are passed to every GetRecords call, for example
	// kinesisfast.WithDecoder(). Fakes ignore them.
	CallOptions []func(*kinesis.Options)
}

// Page is the result of one GetRecords call.
type Page struct {
	Records []types.Record
	// MillisBehindLatest is how far the page is from the tip of the shard.
	MillisBehindLatest int64
	// End reports that the shard is closed and every record has been read.
	End bool
	// ChildShards lists the shards that continue a closed shard, when the
	// server reports them.
	ChildShards []types.ChildShard
}

// A Poller reads one shard with GetShardIterator and GetRecords. A Poller is
// not safe for concurrent use: one goroutine calls Next.
type Poller struct {
	cfg      PollerConfig
	log      *slog.Logger
	bo       backoff.Backoff
	iterator *string
	lastSeq  string    // last sequence number returned by Next
	lastCall time.Time // end of the previous GetRecords call
	caughtUp bool      // previous page reached the tip
	ended    bool
}

// NewPoller returns a Poller that starts at cfg.Start. It does no I/O.
func NewPoller(cfg PollerConfig) *Poller {
	if cfg.Limit <= 0 || cfg.Limit > MaxLimit {
		cfg.Limit = MaxLimit
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.MinInterval == 0 {
		cfg.MinInterval = 200 * time.Millisecond
	}
	if cfg.BackoffInitial <= 0 {
		cfg.BackoffInitial = time.Second
	}
	if cfg.BackoffMax <= 0 {
		cfg.BackoffMax = 5 * time.Second
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = 30 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Poller{
		cfg: cfg,
		log: log.With("shard", cfg.ShardID),
		bo:  backoff.Backoff{Initial: cfg.BackoffInitial, Max: cfg.BackoffMax},
	}
}

// Next waits as the pacing rules say, then returns the next page of records.
// It retries throttling, service and network errors itself, re-reading the
// same position, and replaces expired iterators after the last record it
// returned, so records are neither skipped nor repeated. It returns an error
// only when ctx is done. Once a page has End set, Next returns End pages
// without calling Kinesis.
func (p *Poller) Next(ctx context.Context) (Page, error) {
	if p.ended {
		return Page{End: true}, nil
	}
	if err := p.pace(ctx); err != nil {
		return Page{}, err
	}
	for {
		if p.iterator == nil {
			it, err := p.getIterator(ctx)
			if err == nil && it == nil {
				// A closed shard read to its end may have no iterator at all.
				p.ended = true
				return Page{End: true}, nil
			}
			if err != nil {
				if err := p.wait(ctx, "GetShardIterator", err); err != nil {
					return Page{}, err
				}
				continue
			}
			p.iterator = it
		}
		cctx, cancel := context.WithTimeout(ctx, p.cfg.CallTimeout)
		out, err := p.cfg.Client.GetRecords(cctx, &kinesis.GetRecordsInput{
			ShardIterator: p.iterator,
			Limit:         aws.Int32(p.cfg.Limit),
		}, p.cfg.CallOptions...)
		cancel()
		// Pace from the end of the call: Kinesis counts calls in a sliding
		// second, and measuring from the start lets a slow call bring the
		// next one too close.
		p.lastCall = time.Now()
		if err != nil {
			if ctx.Err() != nil {
				return Page{}, ctx.Err()
			}
			if reseek(err) {
				p.log.LogAttrs(ctx, slog.LevelDebug, "shard.iterator_replaced",
					slog.String("after", p.lastSeq), slog.String("error", err.Error()))
				p.iterator = nil
				continue
			}
			if err := p.wait(ctx, "GetRecords", err); err != nil {
				return Page{}, err
			}
			continue
		}
		p.bo.Reset()
		page := Page{Records: out.Records, ChildShards: out.ChildShards}
		if out.MillisBehindLatest != nil {
			page.MillisBehindLatest = *out.MillisBehindLatest
		}
		if n := len(out.Records); n > 0 {
			p.lastSeq = aws.ToString(out.Records[n-1].SequenceNumber)
		}
		p.iterator = out.NextShardIterator
		if p.iterator == nil {
			p.ended = true
			page.End = true
		}
		p.caughtUp = len(out.Records) < int(p.cfg.Limit) && page.MillisBehindLatest == 0
		return page, nil
	}
}

// LastSequenceNumber returns the sequence number of the last record Next
// returned, or "" if none.
func (p *Poller) LastSequenceNumber() string { return p.lastSeq }

// pace waits before the next GetRecords call: the poll interval once the
// shard is caught up, otherwise only the per-shard rate floor.
func (p *Poller) pace(ctx context.Context) error {
	if p.lastCall.IsZero() {
		return nil
	}
	gap := p.cfg.MinInterval
	if p.caughtUp {
		gap = p.cfg.PollInterval
	}
	return backoff.Sleep(ctx, time.Until(p.lastCall.Add(gap)))
}

func (p *Poller) wait(ctx context.Context, op string, err error) error {
	d := p.bo.Next()
	p.log.LogAttrs(ctx, slog.LevelWarn, "shard.read_retry",
		slog.String("operation", op), slog.Int("attempt", p.bo.Attempts()),
		slog.Duration("backoff", d), slog.String("error", err.Error()))
	return backoff.Sleep(ctx, d)
}

func (p *Poller) getIterator(ctx context.Context) (*string, error) {
	pos := p.cfg.Start
	if p.lastSeq != "" {
		pos = After(p.lastSeq)
	}
	in := p.cfg.Stream.iteratorInput(p.cfg.ShardID)
	in.ShardIteratorType = pos.Type
	switch pos.Type {
	case types.ShardIteratorTypeAtSequenceNumber, types.ShardIteratorTypeAfterSequenceNumber:
		in.StartingSequenceNumber = aws.String(pos.SequenceNumber)
	case types.ShardIteratorTypeAtTimestamp:
		in.Timestamp = aws.Time(pos.Timestamp)
	}
	cctx, cancel := context.WithTimeout(ctx, p.cfg.CallTimeout)
	defer cancel()
	out, err := p.cfg.Client.GetShardIterator(cctx, in)
	if err != nil {
		return nil, err
	}
	return out.ShardIterator, nil
}

// reseek reports whether err means the iterator is no longer usable and a
// new one should be taken at the same place.
func reseek(err error) bool {
	var expired *types.ExpiredIteratorException
	return errors.As(err, &expired)
}
