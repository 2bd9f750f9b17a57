package kinesistest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/eventstream"
)

// Enhanced fan-out limits and timings, as AWS documents them where it does.
const (
	maxConsumersPerStream = 20
	defaultListConsumers  = 100
	maxListConsumersArg   = 10000
	// subscriptionTTL is how long one SubscribeToShard stream lasts.
	subscriptionTTL = 5 * time.Minute
	// resubscribeGuard is how long after a successful SubscribeToShard
	// another call for the same consumer and shard fails with
	// ResourceInUseException.
	resubscribeGuard = 5 * time.Second
	// heartbeat is the longest time on the Clock between two events of a
	// subscription, so that ContinuationSequenceNumber and
	// MillisBehindLatest arrive even when nothing is put.
	heartbeat = time.Second
	// pushPoll is how often, in real time (fake time in a synctest bubble),
	// an idle subscription looks for new records: the push latency.
	pushPoll = 50 * time.Millisecond
	// An event carries at most this many records and, beyond its first
	// record, this many bytes of data: about one second of a consumer's
	// 2 MB/s per shard.
	maxEventRecords = 10000
	maxEventBytes   = 2 << 20
)

// ConsumerDelay makes a consumer registered with RegisterStreamConsumer
// stay CREATING for d on the Clock before it becomes ACTIVE, as Kinesis
// takes a few seconds. While CREATING, SubscribeToShard fails with
// *types.ResourceInUseException. The default, 0, makes consumers ACTIVE at
// once; a negative d also means 0.
func ConsumerDelay(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d > 0 {
			c.consumerDelay = d
		}
	})
}

// efoState holds the enhanced fan-out consumers and subscriptions of a
// Client. Its zero value is empty and ready.
//
// Lock order: Client.mu, then efoState.mu. Neither is held while a
// subscription reads a shard or writes an event.
type efoState struct {
	mu        sync.Mutex
	consumers map[string]*consumer            // by ARN; guarded by mu
	subs      map[subKey]*subscription        // open subscriptions; guarded by mu
	last      map[subKey]time.Time            // last successful SubscribeToShard; guarded by mu
	byStream  map[uint64]map[string]*consumer // stream ID → name → consumer; guarded by mu
}

type subKey struct{ consumerARN, shardID string }

// consumer is a registered stream consumer. Its fields are immutable.
type consumer struct {
	name      string
	arn       string
	stream    *stream
	created   time.Time
	activeAt  time.Time
	createdTS time.Time // ConsumerCreationTimestamp: created, in whole seconds
}

func (cs *consumer) status(now time.Time) types.ConsumerStatus {
	if now.Before(cs.activeAt) {
		return types.ConsumerStatusCreating
	}
	return types.ConsumerStatusActive
}

// RegisterStreamConsumer registers a consumer named ConsumerName with the
// stream at StreamARN and returns it CREATING, or ACTIVE when the
// [ConsumerDelay] option is 0 (the default). Its ARN is the stream's
// followed by /consumer/<name>:<creation time in Unix seconds>. A stream has
// at most 20 consumers (*types.LimitExceededException); a name already
// registered fails with *types.ResourceInUseException. Tags are ignored. It
// is safe for concurrent use.
func (c *Client) RegisterStreamConsumer(ctx context.Context, in *kinesis.RegisterStreamConsumerInput, _ ...func(*kinesis.Options)) (*kinesis.RegisterStreamConsumerOutput, error) {
	if err := c.begin(ctx, opRegisterStreamConsumer); err != nil {
		return nil, err
	}
	if in == nil {
		in = &kinesis.RegisterStreamConsumerInput{}
	}
	cs, err := c.registerConsumer(in)
	if err != nil {
		return nil, c.wrap(opRegisterStreamConsumer, err)
	}
	now := c.cfg.now()
	return &kinesis.RegisterStreamConsumerOutput{Consumer: &types.Consumer{
		ConsumerARN:               ptr(cs.arn),
		ConsumerName:              ptr(cs.name),
		ConsumerCreationTimestamp: ptr(cs.createdTS),
		ConsumerStatus:            cs.status(now),
	}}, nil
}

func (c *Client) registerConsumer(in *kinesis.RegisterStreamConsumerInput) (*consumer, error) {
	if in.StreamARN == nil {
		return nil, invalidArg("StreamARN must be provided.")
	}
	name := deref(in.ConsumerName)
	if !validStreamName(name) {
		return nil, invalidArg("1 validation error detected: Value '%s' at 'consumerName' failed to satisfy constraint: Member must have length between 1 and 128 and match [a-zA-Z0-9_.-]+", name)
	}
	now := c.cfg.now()
	c.mu.RLock()
	defer c.mu.RUnlock()
	s, err := c.resolveLocked(nil, in.StreamARN)
	if err != nil {
		return nil, err
	}
	e := &c.efo
	e.mu.Lock()
	defer e.mu.Unlock()
	byName := e.streamConsumersLocked(s)
	if byName[name] != nil {
		return nil, inUse("Consumer %s under stream %s already exists for account %s.", name, s.name, c.cfg.account)
	}
	if len(byName) >= maxConsumersPerStream {
		return nil, &types.LimitExceededException{Message: ptr(fmt.Sprintf(
			"Consumer limit of %d has been reached for stream %s under account %s.", maxConsumersPerStream, s.name, c.cfg.account))}
	}
	secs := now.Truncate(time.Second)
	cs := &consumer{
		name:      name,
		arn:       s.arn + "/consumer/" + name + ":" + strconv.FormatInt(secs.Unix(), 10),
		stream:    s,
		created:   now,
		activeAt:  now.Add(c.cfg.consumerDelay),
		createdTS: secs,
	}
	if e.consumers == nil {
		e.consumers = make(map[string]*consumer)
	}
	e.consumers[cs.arn] = cs
	byName[name] = cs
	return cs, nil
}

// streamConsumersLocked returns the consumers of s by name, creating the
// map. A stream deleted and created again under the same name is a new
// stream with no consumers. c.mu and e.mu must be held.
func (e *efoState) streamConsumersLocked(s *stream) map[string]*consumer {
	if e.byStream == nil {
		e.byStream = make(map[uint64]map[string]*consumer)
	}
	m := e.byStream[s.id]
	if m == nil {
		m = make(map[string]*consumer)
		e.byStream[s.id] = m
	}
	return m
}

// lookupConsumerLocked finds the consumer that arn, or streamARN and name,
// address. A consumer of a deleted stream no longer exists. c.mu must be
// held; it takes e.mu.
func (c *Client) lookupConsumerLocked(arn, streamARN, name *string) (*consumer, error) {
	e := &c.efo
	if a := deref(arn); a != "" {
		if streamARN != nil || name != nil {
			return nil, invalidArg("ConsumerARN cannot be provided together with StreamARN or ConsumerName.")
		}
		if _, _, ok := splitConsumerARN(a); !ok {
			return nil, invalidArg("ConsumerARN %s is not a valid Kinesis consumer ARN.", a)
		}
		e.mu.Lock()
		cs := e.consumers[a]
		e.mu.Unlock()
		if cs == nil || c.byID[cs.stream.id] != cs.stream {
			return nil, notFound("Consumer %s under account %s not found.", a, c.cfg.account)
		}
		return cs, nil
	}
	if streamARN == nil || name == nil {
		return nil, invalidArg("Either ConsumerARN or both StreamARN and ConsumerName should be provided.")
	}
	s, err := c.resolveLocked(nil, streamARN)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	cs := e.byStream[s.id][*name]
	e.mu.Unlock()
	if cs == nil {
		return nil, notFound("Consumer %s under stream %s under account %s not found.", *name, s.name, c.cfg.account)
	}
	return cs, nil
}

// splitConsumerARN splits arn:aws:kinesis:<region>:<account>:stream/<name>/consumer/<consumer>:<epoch>
// into the stream ARN and the consumer name.
func splitConsumerARN(arn string) (streamARN, name string, ok bool) {
	i := strings.Index(arn, "/consumer/")
	if i < 0 || !strings.HasPrefix(arn, "arn:") {
		return "", "", false
	}
	streamARN, rest := arn[:i], arn[i+len("/consumer/"):]
	j := strings.LastIndexByte(rest, ':')
	if j <= 0 || j == len(rest)-1 || !allDigits(rest[j+1:]) {
		return "", "", false
	}
	return streamARN, rest[:j], true
}

// DescribeStreamConsumer describes the consumer named by ConsumerARN, or by
// StreamARN and ConsumerName; an unknown one fails with
// *types.ResourceNotFoundException. It is safe for concurrent use.
func (c *Client) DescribeStreamConsumer(ctx context.Context, in *kinesis.DescribeStreamConsumerInput, _ ...func(*kinesis.Options)) (*kinesis.DescribeStreamConsumerOutput, error) {
	if err := c.begin(ctx, opDescribeStreamConsumer); err != nil {
		return nil, err
	}
	if in == nil {
		in = &kinesis.DescribeStreamConsumerInput{}
	}
	now := c.cfg.now()
	c.mu.RLock()
	cs, err := c.lookupConsumerLocked(in.ConsumerARN, in.StreamARN, in.ConsumerName)
	c.mu.RUnlock()
	if err != nil {
		return nil, c.wrap(opDescribeStreamConsumer, err)
	}
	return &kinesis.DescribeStreamConsumerOutput{ConsumerDescription: &types.ConsumerDescription{
		ConsumerARN:               ptr(cs.arn),
		ConsumerName:              ptr(cs.name),
		ConsumerCreationTimestamp: ptr(cs.createdTS),
		ConsumerStatus:            cs.status(now),
		StreamARN:                 ptr(cs.stream.arn),
	}}, nil
}

// ListStreamConsumers lists the consumers of the stream at StreamARN in
// name order, at most MaxResults (1–10000, default 100) per call, with a
// NextToken when more remain. StreamCreationTimestamp is ignored. It is
// safe for concurrent use.
func (c *Client) ListStreamConsumers(ctx context.Context, in *kinesis.ListStreamConsumersInput, _ ...func(*kinesis.Options)) (*kinesis.ListStreamConsumersOutput, error) {
	if err := c.begin(ctx, opListStreamConsumers); err != nil {
		return nil, err
	}
	if in == nil {
		in = &kinesis.ListStreamConsumersInput{}
	}
	out, err := c.listConsumers(in)
	if err != nil {
		return nil, c.wrap(opListStreamConsumers, err)
	}
	return out, nil
}

func (c *Client) listConsumers(in *kinesis.ListStreamConsumersInput) (*kinesis.ListStreamConsumersOutput, error) {
	if in.StreamARN == nil {
		return nil, invalidArg("StreamARN must be provided.")
	}
	limit := defaultListConsumers
	if in.MaxResults != nil {
		limit = int(*in.MaxResults)
		if limit < 1 || limit > maxListConsumersArg {
			return nil, invalidArg("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and %d", limit, maxListConsumersArg)
		}
	}
	after := ""
	if in.NextToken != nil {
		raw, err := base64.RawURLEncoding.DecodeString(*in.NextToken)
		name, ok := strings.CutPrefix(string(raw), "c|"+*in.StreamARN+"|")
		if err != nil || !ok {
			return nil, invalidArg("Invalid NextToken.")
		}
		after = name
	}
	now := c.cfg.now()
	c.mu.RLock()
	defer c.mu.RUnlock()
	s, err := c.resolveLocked(nil, in.StreamARN)
	if err != nil {
		return nil, err
	}
	e := &c.efo
	e.mu.Lock()
	var all []*consumer
	for _, cs := range e.byStream[s.id] {
		if cs.name > after {
			all = append(all, cs)
		}
	}
	e.mu.Unlock()
	slices.SortFunc(all, func(a, b *consumer) int { return strings.Compare(a.name, b.name) })
	out := &kinesis.ListStreamConsumersOutput{Consumers: []types.Consumer{}}
	for i, cs := range all {
		if i == limit {
			tok := base64.RawURLEncoding.EncodeToString([]byte("c|" + s.arn + "|" + all[i-1].name))
			out.NextToken = &tok
			break
		}
		out.Consumers = append(out.Consumers, types.Consumer{
			ConsumerARN:               ptr(cs.arn),
			ConsumerName:              ptr(cs.name),
			ConsumerCreationTimestamp: ptr(cs.createdTS),
			ConsumerStatus:            cs.status(now),
		})
	}
	return out, nil
}

// DeregisterStreamConsumer removes the consumer named by ConsumerARN, or by
// StreamARN and ConsumerName, at once (Kinesis shows it DELETING for a
// while), and ends its open subscriptions. It is safe for concurrent use.
func (c *Client) DeregisterStreamConsumer(ctx context.Context, in *kinesis.DeregisterStreamConsumerInput, _ ...func(*kinesis.Options)) (*kinesis.DeregisterStreamConsumerOutput, error) {
	if err := c.begin(ctx, opDeregisterStreamConsumer); err != nil {
		return nil, err
	}
	if in == nil {
		in = &kinesis.DeregisterStreamConsumerInput{}
	}
	c.mu.RLock()
	cs, err := c.lookupConsumerLocked(in.ConsumerARN, in.StreamARN, in.ConsumerName)
	var ended []*subscription
	if err == nil {
		e := &c.efo
		e.mu.Lock()
		delete(e.consumers, cs.arn)
		delete(e.byStream[cs.stream.id], cs.name)
		for k, sub := range e.subs {
			if k.consumerARN == cs.arn {
				ended = append(ended, sub)
				delete(e.subs, k)
			}
		}
		e.mu.Unlock()
	}
	c.mu.RUnlock()
	if err != nil {
		return nil, c.wrap(opDeregisterStreamConsumer, err)
	}
	for _, sub := range ended {
		sub.end(notFound("Consumer %s under account %s was deregistered.", cs.arn, c.cfg.account))
	}
	return &kinesis.DeregisterStreamConsumerOutput{}, nil
}

// SubscribeToShard opens an enhanced fan-out subscription of the consumer
// at ConsumerARN to shard ShardId, starting at StartingPosition (any
// ShardIteratorType, with GetShardIterator's rules). The output's
// GetStream() is a real *kinesis.SubscribeToShardEventStream: the events
// are encoded in Kinesis's wire format and decoded by the SDK's own event
// stream reader, so code reads it exactly as from a *kinesis.Client and
// must Close it.
//
// The stream sends a SubscribeToShardEvent at once, then one whenever
// records are put (within 50 ms of real time, or of fake time in a
// testing/synctest bubble) and at least once a second of the Clock. An
// event holds up to 10,000 records and about 2 MiB of data.
// ContinuationSequenceNumber is the sequence number of the event's last
// record, or of the last record before the subscription's position when
// the event is empty (the shard's starting sequence number if none), so
// that AFTER_SEQUENCE_NUMBER with it resumes exactly. MillisBehindLatest is
// computed as in GetRecords. When a closed shard has been read to its end,
// a last event has ContinuationSequenceNumber nil and ChildShards set, and
// the stream ends.
//
// The stream also ends, cleanly (Events is closed and Err is nil), when
// five minutes of the Clock have passed since the call, when a newer
// subscription of the same consumer and shard replaces it, or at
// [Client.EndSubscriptions]; it fails with ctx's error when ctx is done,
// and with *types.ResourceNotFoundException when its consumer is
// deregistered or its stream deleted. The Clock is read whenever the
// subscription wakes, so with a Clock that is advanced by hand the stream
// ends within 50 ms of real time after the Clock passes five minutes.
//
// A call within five seconds of the Clock after a successful call for the
// same consumer and shard fails with *types.ResourceInUseException, as does
// a call while the consumer is CREATING. The read rate of 2 MB/s per shard
// per consumer is not enforced. optFns are ignored. It is safe for
// concurrent use.
func (c *Client) SubscribeToShard(ctx context.Context, in *kinesis.SubscribeToShardInput, _ ...func(*kinesis.Options)) (*kinesis.SubscribeToShardOutput, error) {
	if err := c.begin(ctx, opSubscribeToShard); err != nil {
		return nil, err
	}
	if in == nil {
		in = &kinesis.SubscribeToShardInput{}
	}
	sub, err := c.subscribe(in)
	if err != nil {
		return nil, c.wrap(opSubscribeToShard, err)
	}
	// The SDK's own client decodes the stream, through sub as its
	// HTTPClient; a client per call because the SDK's event stream codec
	// is shared by all streams of a client and is not safe for concurrent
	// decoding. Anonymous credentials skip signing.
	sdk := kinesis.New(kinesis.Options{
		Region:       c.cfg.region,
		BaseEndpoint: aws.String("https://kinesistest.invalid"),
		Credentials:  aws.AnonymousCredentials{},
		HTTPClient:   sub,
		Retryer:      aws.NopRetryer{},
	})
	out, err := sdk.SubscribeToShard(ctx, in)
	if err != nil {
		sub.end(nil)
		c.efo.remove(sub)
		if ctx.Err() != nil {
			return nil, c.wrap(opSubscribeToShard, ctx.Err())
		}
		return nil, c.wrap(opSubscribeToShard, err)
	}
	return out, nil
}

// EndSubscriptions ends every open SubscribeToShard stream. With a nil err
// each ends cleanly, as after five minutes; otherwise each ends with err
// sent as an exception event, which the SDK decodes into its typed error
// (err should be one of the stream's exceptions, such as
// *types.InternalFailureException or *types.ResourceInUseException; an
// error that is not a smithy.APIError is sent as InternalFailureException).
// It is a test helper, like ExpireIterators, and safe for concurrent use.
func (c *Client) EndSubscriptions(err error) {
	e := &c.efo
	e.mu.Lock()
	subs := make([]*subscription, 0, len(e.subs))
	for k, sub := range e.subs {
		subs = append(subs, sub)
		delete(e.subs, k)
	}
	e.mu.Unlock()
	for _, sub := range subs {
		sub.end(err)
	}
}

// subscribe validates in, finds the starting position and registers a new
// subscription, replacing any older one of the same consumer and shard.
func (c *Client) subscribe(in *kinesis.SubscribeToShardInput) (*subscription, error) {
	if in.ConsumerARN == nil || in.ShardId == nil || in.StartingPosition == nil {
		return nil, invalidArg("ConsumerARN, ShardId and StartingPosition must be provided.")
	}
	now := c.cfg.now()
	c.mu.RLock()
	cs, err := c.lookupConsumerLocked(in.ConsumerARN, nil, nil)
	var sh *shard
	if err == nil {
		sh, err = c.shardLocked(cs.stream, *in.ShardId)
	}
	c.mu.RUnlock()
	if err != nil {
		return nil, err
	}
	if cs.status(now) != types.ConsumerStatusActive {
		return nil, inUse("Consumer %s under account %s is not ACTIVE.", cs.arn, c.cfg.account)
	}
	sp := in.StartingPosition
	it, err := c.getShardIterator(&kinesis.GetShardIteratorInput{
		StreamARN:              ptr(cs.stream.arn),
		ShardId:                in.ShardId,
		ShardIteratorType:      sp.Type,
		StartingSequenceNumber: sp.SequenceNumber,
		Timestamp:              sp.Timestamp,
	})
	if err != nil {
		return nil, err
	}
	pos, _ := decodeIterator(it)

	key := subKey{cs.arn, sh.id}
	sub := &subscription{
		c:       c,
		key:     key,
		s:       cs.stream,
		sh:      sh,
		pos:     int(pos.pos),
		started: now,
		stop:    make(chan struct{}),
	}
	e := &c.efo
	e.mu.Lock()
	if last, ok := e.last[key]; ok && now.Sub(last) < resubscribeGuard {
		e.mu.Unlock()
		return nil, inUse("Another active subscription exists for consumer %s and shard %s under account %s; retry after %s.",
			cs.arn, sh.id, c.cfg.account, last.Add(resubscribeGuard).UTC().Format(time.RFC3339Nano))
	}
	if e.subs == nil {
		e.subs = make(map[subKey]*subscription)
		e.last = make(map[subKey]time.Time)
	}
	old := e.subs[key]
	e.subs[key] = sub
	e.last[key] = now
	e.mu.Unlock()
	if old != nil {
		old.end(nil)
	}
	return sub, nil
}

// remove forgets sub if it is still the open subscription of its key.
func (e *efoState) remove(sub *subscription) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.subs[sub.key] == sub {
		delete(e.subs, sub.key)
	}
}

// subscription is one SubscribeToShard stream. It is the HTTPClient of the
// SDK client that decodes it: Do answers with a pipe that push writes.
type subscription struct {
	c       *Client
	key     subKey
	s       *stream
	sh      *shard
	started time.Time

	pos int // index of the next record to send; owned by push

	stopOnce sync.Once
	stop     chan struct{} // closed by end
	stopErr  error         // written before stop is closed
}

// end asks the subscription to end, cleanly if err is nil. Only the first
// call counts.
func (sub *subscription) end(err error) {
	sub.stopOnce.Do(func() {
		sub.stopErr = err
		close(sub.stop)
	})
}

// Do answers the SDK's request with the event stream, which push writes
// until the subscription ends.
func (sub *subscription) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
	pr, pw := io.Pipe()
	body := &eventBody{pr: pr, closed: make(chan struct{})}
	go sub.push(req.Context(), pw, body.closed)
	return &http.Response{
		Status:     "200 OK",
		StatusCode: http.StatusOK,
		Proto:      "HTTP/2.0",
		ProtoMajor: 2,
		Header: http.Header{
			"Content-Type":     {"application/vnd.amazon.eventstream"},
			"X-Amzn-Requestid": {sub.c.requestID()},
		},
		Body:    body,
		Request: req,
	}, nil
}

// eventBody is the response body; Close tells push that the reader is gone.
type eventBody struct {
	pr     *io.PipeReader
	once   sync.Once
	closed chan struct{}
}

func (b *eventBody) Read(p []byte) (int, error) { return b.pr.Read(p) }

func (b *eventBody) Close() error {
	b.once.Do(func() {
		close(b.closed)
		_ = b.pr.Close()
	})
	return nil
}

// push writes the initial response and then events to w until the
// subscription ends, ctx is done or the reader closes the body. It is the
// only goroutine a subscription starts, and it returns in each of those
// cases, at the latest after pushPoll.
func (sub *subscription) push(ctx context.Context, w *io.PipeWriter, closed <-chan struct{}) {
	defer sub.c.efo.remove(sub)
	enc := eventstream.NewEncoder()
	if err := writeMessage(enc, w, "initial-response", []byte("{}")); err != nil {
		return
	}
	var lastEvent time.Time
	first := true
	timer := time.NewTimer(pushPoll)
	defer timer.Stop()
	for {
		select {
		case <-sub.stop:
			if err := sub.stopErr; err != nil {
				_ = writeException(enc, w, err)
			}
			_ = w.Close()
			return
		case <-ctx.Done():
			_ = w.CloseWithError(ctx.Err())
			return
		case <-closed:
			return
		default:
		}
		now := sub.c.cfg.now()
		if !now.Before(sub.started.Add(subscriptionTTL)) {
			_ = w.Close()
			return
		}
		if !sub.streamExists() {
			_ = writeException(enc, w, notFound("Stream %s under account %s not found.", sub.s.name, sub.c.cfg.account))
			_ = w.Close()
			return
		}
		ev, n, more, final := sub.next(now)
		if n > 0 || final || first || now.Sub(lastEvent) >= heartbeat {
			payload, err := json.Marshal(ev)
			if err != nil {
				panic("kinesistest: encoding SubscribeToShardEvent: " + err.Error())
			}
			if writeMessage(enc, w, "SubscribeToShardEvent", payload) != nil {
				return // the reader closed the body
			}
			sub.pos += n
			lastEvent, first = now, false
			if final {
				_ = w.Close()
				return
			}
		}
		if more {
			continue
		}
		timer.Reset(pushPoll)
		select {
		case <-timer.C:
		case <-sub.stop:
		case <-ctx.Done():
		case <-closed:
		}
	}
}

func (sub *subscription) streamExists() bool {
	sub.c.mu.RLock()
	defer sub.c.mu.RUnlock()
	return sub.c.byID[sub.s.id] == sub.s
}

// next builds the event for the records from sub.pos on: n records, more
// if records beyond them are waiting, final if it ends a closed shard.
func (sub *subscription) next(now time.Time) (ev wireEvent, n int, more, final bool) {
	sh := sub.sh
	sh.mu.RLock()
	total := sh.log.len()
	from := min(sub.pos, total)
	to := min(from+maxEventRecords, total)
	if base := sh.log.bytesBefore(from); to > from+1 && sh.log.bytesBefore(to)-base > maxEventBytes {
		to = from + max(1, countWithin(sh, from, to, base))
	}
	ev.Records = make([]wireRecord, to-from)
	for i := range ev.Records {
		r := sh.log.at(from + i)
		ms := r.ApproximateArrivalTimestamp.UnixMilli()
		ev.Records[i] = wireRecord{
			SequenceNumber:              *r.SequenceNumber,
			ApproximateArrivalTimestamp: json.Number(fmt.Sprintf("%d.%03d", ms/1000, ms%1000)),
			Data:                        r.Data,
			PartitionKey:                *r.PartitionKey,
		}
	}
	var behind time.Time
	if to < total {
		behind = *sh.log.at(to).ApproximateArrivalTimestamp
	}
	cont := sh.startSeq
	if to > 0 {
		cont = *sh.log.at(to - 1).SequenceNumber
	}
	closed, children := sh.closed, sh.children
	sh.mu.RUnlock()

	if to < total {
		ev.MillisBehindLatest = max(now.Sub(behind).Milliseconds(), 1)
	}
	if closed && to == total {
		for _, ch := range childShards(sh, children) {
			ev.ChildShards = append(ev.ChildShards, wireChild{
				ShardID:      *ch.ShardId,
				ParentShards: ch.ParentShards,
				HashKeyRange: wireRange{*ch.HashKeyRange.StartingHashKey, *ch.HashKeyRange.EndingHashKey},
			})
		}
		return ev, to - from, false, true
	}
	ev.ContinuationSequenceNumber = &cont
	return ev, to - from, to < total, false
}

// countWithin returns how many records from index from fit in
// maxEventBytes. sh.mu must be held.
func countWithin(sh *shard, from, to int, base int64) int {
	k := 0
	for from+k < to && sh.log.bytesBefore(from+k+1)-base <= maxEventBytes {
		k++
	}
	return k
}

// The JSON of a SubscribeToShardEvent as Kinesis sends it (awsJson 1.1:
// blobs in base64, timestamps in epoch seconds).
type wireEvent struct {
	Records                    []wireRecord `json:"Records"`
	ContinuationSequenceNumber *string      `json:"ContinuationSequenceNumber,omitempty"`
	MillisBehindLatest         int64        `json:"MillisBehindLatest"`
	ChildShards                []wireChild  `json:"ChildShards,omitempty"`
}

type wireRecord struct {
	SequenceNumber              string      `json:"SequenceNumber"`
	ApproximateArrivalTimestamp json.Number `json:"ApproximateArrivalTimestamp"`
	Data                        []byte      `json:"Data"`
	PartitionKey                string      `json:"PartitionKey"`
}

type wireChild struct {
	ShardID      string    `json:"ShardId"`
	ParentShards []string  `json:"ParentShards"`
	HashKeyRange wireRange `json:"HashKeyRange"`
}

type wireRange struct {
	StartingHashKey string `json:"StartingHashKey"`
	EndingHashKey   string `json:"EndingHashKey"`
}

func writeMessage(enc *eventstream.Encoder, w io.Writer, eventType string, payload []byte) error {
	var msg eventstream.Message
	msg.Headers.Set(eventstream.MessageTypeHeader, eventstream.StringValue(eventstream.EventMessageType))
	msg.Headers.Set(eventstream.EventTypeHeader, eventstream.StringValue(eventType))
	msg.Headers.Set(eventstream.ContentTypeHeader, eventstream.StringValue("application/json"))
	msg.Payload = payload
	return enc.Encode(w, msg)
}

// writeException sends err as the exception message Kinesis sends when a
// subscription fails.
func writeException(enc *eventstream.Encoder, w io.Writer, err error) error {
	code, message := "InternalFailureException", err.Error()
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code, message = apiErr.ErrorCode(), apiErr.ErrorMessage()
	}
	payload, _ := json.Marshal(map[string]string{"message": message})
	var msg eventstream.Message
	msg.Headers.Set(eventstream.MessageTypeHeader, eventstream.StringValue(eventstream.ExceptionMessageType))
	msg.Headers.Set(eventstream.ExceptionTypeHeader, eventstream.StringValue(code))
	msg.Headers.Set(eventstream.ContentTypeHeader, eventstream.StringValue("application/json"))
	msg.Payload = payload
	return enc.Encode(w, msg)
}
