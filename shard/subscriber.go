package shard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/schemas"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go/transport/http/protocol/awsjson"

	"github.com/esmkit/esmkit/internal/backoff"
	"github.com/esmkit/esmkit/internal/seqnum"
)

// SubscriberConfig configures a [Subscriber]. Client, ConsumerARN, ShardID
// and Start are required; zero values of the rest select the defaults
// given.
type SubscriberConfig struct {
	Client      FanOutClient
	ConsumerARN string
	ShardID     string
	Start       Position

	// BackoffInitial and BackoffMax bound the jittered exponential wait
	// after a failed SubscribeToShard call or a subscription that failed
	// (ResourceInUseException, LimitExceededException, throttling, service
	// and network errors); defaults 1 s and 5 s. Kinesis refuses a second
	// subscription within 5 s of the last one with ResourceInUseException,
	// so the wait grows past that.
	BackoffInitial time.Duration
	BackoffMax     time.Duration
	// MinInterval is the least time between two SubscribeToShard calls:
	// Kinesis allows one per second per consumer and shard, the default. A
	// negative value removes the floor.
	MinInterval time.Duration
	// Logger receives warnings about retried errors; default discards.
	Logger *slog.Logger
}

// A Subscriber reads one shard through an enhanced fan-out consumer with
// SubscribeToShard. Each event Kinesis pushes becomes one [Page], also an
// event with no records, which carries MillisBehindLatest. A subscription
// lasts five minutes; the Subscriber then subscribes again just after the
// last record it returned (AFTER_SEQUENCE_NUMBER), or after the last
// ContinuationSequenceNumber if it has returned no record yet, so pages
// have no gaps, duplicates or reordering across subscriptions. It does
// the same after a subscription fails, backing off first.
//
// A Subscriber is not safe for concurrent use: one goroutine calls Next.
// Call Close when done, unless Next returned an End page or its context
// was done, which close the subscription already.
type Subscriber struct {
	cfg SubscriberConfig
	log *slog.Logger
	bo  backoff.Backoff

	es       *kinesis.SubscribeToShardEventStream // open subscription, or nil
	cancel   context.CancelFunc                   // cancels the open subscription's request
	lastSeq  string                               // last record Next returned
	cont     string                               // last ContinuationSequenceNumber received
	lastCall time.Time                            // start of the last SubscribeToShard call
	failed   bool                                 // the last call or subscription failed
	ended    bool
}

// NewSubscriber returns a Subscriber that starts at cfg.Start. It does no
// I/O and starts no goroutine.
func NewSubscriber(cfg SubscriberConfig) *Subscriber {
	if cfg.BackoffInitial <= 0 {
		cfg.BackoffInitial = time.Second
	}
	if cfg.BackoffMax <= 0 {
		cfg.BackoffMax = 5 * time.Second
	}
	if cfg.MinInterval == 0 {
		cfg.MinInterval = time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Subscriber{
		cfg: cfg,
		log: log.With("shard", cfg.ShardID, "consumer", cfg.ConsumerARN),
		bo:  backoff.Backoff{Initial: cfg.BackoffInitial, Max: cfg.BackoffMax},
	}
}

// Next returns the page of the next event, subscribing first if no
// subscription is open. It re-subscribes by itself when a subscription
// ends or fails, and retries ResourceInUseException, LimitExceededException,
// throttling, service and network errors with backoff. It returns ctx's
// error when ctx is done, closing the subscription (a later Next opens a
// new one), and an error wrapping Kinesis's when SubscribeToShard fails in
// a way retrying cannot fix: *types.ResourceNotFoundException (no such
// consumer or shard), *types.InvalidArgumentException, AccessDenied. Once
// a page has End set, Next returns End pages without calling Kinesis.
func (s *Subscriber) Next(ctx context.Context) (Page, error) {
	if s.ended {
		return Page{End: true}, nil
	}
	for {
		if err := ctx.Err(); err != nil {
			s.Close()
			return Page{}, err
		}
		if s.es == nil {
			if err := s.subscribe(ctx); err != nil {
				return Page{}, err
			}
		}
		select {
		case <-ctx.Done():
			s.Close()
			return Page{}, ctx.Err()
		case v, ok := <-s.es.Events():
			if !ok {
				err := s.es.Err()
				s.Close()
				if err != nil {
					s.failed = true
					s.log.LogAttrs(ctx, slog.LevelWarn, "shard.subscription_failed",
						slog.String("error", err.Error()))
				}
				continue
			}
			ev, isEvent := v.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent)
			if !isEvent {
				continue // an event type this SDK does not know
			}
			s.failed = false
			s.bo.Reset()
			return s.page(&ev.Value), nil
		}
	}
}

// page turns an event into a page and advances the position.
func (s *Subscriber) page(ev *types.SubscribeToShardEvent) Page {
	recs := ev.Records
	// A subscription starts after the last record returned, so nothing
	// here should repeat; dropping repeats anyway keeps that a guarantee
	// of this type rather than of the server.
	if s.lastSeq != "" {
		i := 0
		for i < len(recs) && !seqnum.Less(s.lastSeq, aws.ToString(recs[i].SequenceNumber)) {
			i++
		}
		recs = recs[i:]
	}
	p := Page{Records: recs, ChildShards: ev.ChildShards}
	if ev.MillisBehindLatest != nil {
		p.MillisBehindLatest = *ev.MillisBehindLatest
	}
	if n := len(recs); n > 0 {
		s.lastSeq = aws.ToString(recs[n-1].SequenceNumber)
	}
	if ev.ContinuationSequenceNumber == nil {
		s.ended = true
		p.End = true
		s.Close()
	} else {
		s.cont = *ev.ContinuationSequenceNumber
	}
	return p
}

// subscribe opens a subscription at the current position, waiting first
// for the call rate floor and, after a failure, for the backoff.
func (s *Subscriber) subscribe(ctx context.Context) error {
	for {
		var wait time.Duration
		if s.failed {
			wait = s.bo.Next()
		}
		if !s.lastCall.IsZero() && s.cfg.MinInterval > 0 {
			wait = max(wait, time.Until(s.lastCall.Add(s.cfg.MinInterval)))
		}
		if err := backoff.Sleep(ctx, wait); err != nil {
			return err
		}
		pos := s.position()
		in := &kinesis.SubscribeToShardInput{
			ConsumerARN:      aws.String(s.cfg.ConsumerARN),
			ShardId:          aws.String(s.cfg.ShardID),
			StartingPosition: &types.StartingPosition{Type: pos.Type},
		}
		switch pos.Type {
		case types.ShardIteratorTypeAtSequenceNumber, types.ShardIteratorTypeAfterSequenceNumber:
			in.StartingPosition.SequenceNumber = aws.String(pos.SequenceNumber)
		case types.ShardIteratorTypeAtTimestamp:
			in.StartingPosition.Timestamp = aws.Time(pos.Timestamp)
		}
		// The subscription outlives this call's ctx (Next closes it when
		// a later ctx is done), but the call itself must not outlive ctx.
		subCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		stop := context.AfterFunc(ctx, cancel)
		s.lastCall = time.Now()
		out, err := s.cfg.Client.SubscribeToShard(subCtx, in, ownCodec)
		stop()
		if err == nil {
			s.es, s.cancel = out.GetStream(), cancel
			s.log.LogAttrs(ctx, slog.LevelDebug, "shard.subscribed",
				slog.String("type", string(pos.Type)), slog.String("sequence_number", pos.SequenceNumber))
			return nil
		}
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var notFound *types.ResourceNotFoundException
		if permanent(err) || errors.As(err, &notFound) {
			s.failed = true
			return fmt.Errorf("shard: SubscribeToShard %s: %w", s.cfg.ShardID, err)
		}
		s.failed = true
		s.log.LogAttrs(ctx, slog.LevelWarn, "shard.read_retry",
			slog.String("operation", "SubscribeToShard"), slog.Int("attempt", s.bo.Attempts()+1),
			slog.String("error", err.Error()))
	}
}

// position is where the next subscription starts: just after the last
// record returned, else after the last continuation, else Start.
func (s *Subscriber) position() Position {
	switch {
	case s.lastSeq != "":
		return After(s.lastSeq)
	case s.cont != "":
		return After(s.cont)
	}
	return s.cfg.Start
}

// LastSequenceNumber returns the sequence number of the last record Next
// returned, or "" if none.
func (s *Subscriber) LastSequenceNumber() string { return s.lastSeq }

// Close closes the open subscription, if any, and waits for nothing: the
// SDK's reader goroutines end once the stream is closed. It is idempotent
// and always returns nil; a later Next subscribes again.
func (s *Subscriber) Close() error {
	if s.es != nil {
		_ = s.es.Close() // its error was seen, or does not matter, at close
		s.es = nil
	}
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
	return nil
}

// ownCodec gives one SubscribeToShard call its own event-stream codec.
// aws-sdk-go-v2's awsJson 1.1 protocol (smithy-go v1.28.8, the latest)
// keeps one event-stream decoder and payload buffer per client, and every
// stream's reader goroutine uses them without a lock: two subscriptions on
// one *kinesis.Client are a data race, which the race detector reports
// (TestSubscriberKinesisLocal). Options are copied per call, so this
// changes nothing else; a protocol the caller replaced is left alone.
func ownCodec(o *kinesis.Options) {
	if _, ok := o.Protocol.(*awsjson.Protocol); ok {
		o.Protocol = awsjson.New11(schemas.Kinesis_20131202)
	}
}
