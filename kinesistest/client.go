package kinesistest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Client is an in-memory Kinesis data stream service. Its SDK-shaped methods
// have the signatures of *kinesis.Client, so code written against an
// interface runs against either.
//
// A Client is safe for concurrent use by multiple goroutines. Use New to
// create one; the zero Client is not usable. It starts no goroutines and
// needs no Close.
type Client struct {
	cfg config

	// mu guards streams and, inside each stream, the set of shards, their
	// lineage and open/closed state, and maxRecordSize. Puts and reads hold
	// it for reading; CreateStream, DeleteStream, SplitShard, MergeShards and
	// UpdateMaxRecordSize hold it for writing, so no put is in flight while
	// the set of open shards changes.
	//
	// Lock order: Client.mu, then stream.putMu, then shard.mu, then
	// shard.rateMu. faultMu is never held with another lock.
	mu       sync.RWMutex
	byName   map[string]*stream
	byID     map[uint64]*stream
	streamID uint64 // last stream ID issued; guarded by mu

	epoch atomic.Uint64 // iterators issued before the current epoch are expired
	reqID atomic.Uint64 // source of fake request IDs

	calls   [numOps]atomic.Int64
	nFaults atomic.Int32 // len(faults), read without faultMu on the hot path
	faultMu sync.Mutex
	faults  []*fault // guarded by faultMu; in injection order

	efo efoState // consumers and subscriptions; see efo.go
}

// New returns an empty Client configured by opts. It never fails: an
// option given a nil or empty value keeps its default.
func New(opts ...Option) *Client {
	cfg := defaultConfig()
	for _, o := range opts {
		o.apply(&cfg)
	}
	return &Client{
		cfg:    cfg,
		byName: make(map[string]*stream),
		byID:   make(map[uint64]*stream),
	}
}

// Option configures a Client in New.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	now      func() time.Time
	region   string
	account  string
	readRate int // GetRecords calls per shard per second; 0 means no limit

	consumerDelay time.Duration // CREATING → ACTIVE; see ConsumerDelay
}

func defaultConfig() config {
	return config{now: time.Now, region: "us-east-1", account: "123456789012"}
}

// Clock sets the source of the current time: record arrival times, iterator
// and NextToken expiry, MillisBehindLatest and ShardReadRate all read it.
// The default is time.Now; nil keeps the default. Tests that control time
// pass a function reading a variable they advance (guarded as they see fit;
// the Client may call now from any goroutine).
func Clock(now func() time.Time) Option {
	return optionFunc(func(c *config) {
		if now != nil {
			c.now = now
		}
	})
}

// Region sets the region in stream ARNs. The default is "us-east-1"; an
// empty string keeps the default.
func Region(region string) Option {
	return optionFunc(func(c *config) {
		if region != "" {
			c.region = region
		}
	})
}

// AccountID sets the account in stream ARNs and error messages. The default
// is "123456789012"; an empty string keeps the default.
func AccountID(id string) Option {
	return optionFunc(func(c *config) {
		if id != "" {
			c.account = id
		}
	})
}

// ShardReadRate limits GetRecords to n calls per shard in any one second of
// the Clock, as Kinesis does with n = 5; a call over the limit fails with
// *types.ProvisionedThroughputExceededException and does not count. The
// default, 0, sets no limit; a negative n also means no limit.
func ShardReadRate(n int) Option {
	return optionFunc(func(c *config) {
		if n > 0 {
			c.readRate = n
		}
	})
}

// Operation indexes, so that the hot path counts calls in an array.
type op int

const (
	opCreateStream op = iota
	opDeleteStream
	opDescribeStream
	opDescribeStreamSummary
	opListShards
	opPutRecord
	opPutRecords
	opGetShardIterator
	opGetRecords
	opSplitShard
	opMergeShards
	opUpdateMaxRecordSize
	opRegisterStreamConsumer
	opDescribeStreamConsumer
	opListStreamConsumers
	opDeregisterStreamConsumer
	opSubscribeToShard
	numOps
)

var opNames = [numOps]string{
	"CreateStream", "DeleteStream", "DescribeStream", "DescribeStreamSummary",
	"ListShards", "PutRecord", "PutRecords", "GetShardIterator", "GetRecords",
	"SplitShard", "MergeShards", "UpdateMaxRecordSize",
	"RegisterStreamConsumer", "DescribeStreamConsumer", "ListStreamConsumers",
	"DeregisterStreamConsumer", "SubscribeToShard",
}

func lookupOp(name string) op {
	for i, n := range opNames {
		if n == name {
			return op(i)
		}
	}
	panic(fmt.Sprintf("kinesistest: unknown operation %q; want one of %s",
		name, strings.Join(opNames[:], ", ")))
}

// Calls returns how many times operation op (an SDK operation name such as
// "GetRecords") has been called, including calls that failed. The test
// helpers AddStream, Put and Records are not counted. Calls panics if op is
// not one of the operations Client implements. It is safe for concurrent use.
func (c *Client) Calls(op string) int {
	return int(c.calls[lookupOp(op)].Load())
}

// begin counts a call of o and returns the error, if any, that the call
// must fail with before doing any work: a done context or an injected fault.
func (c *Client) begin(ctx context.Context, o op) error {
	c.calls[o].Add(1)
	if err := ctx.Err(); err != nil {
		return c.wrap(o, err)
	}
	if c.nFaults.Load() == 0 {
		return nil
	}
	if err := c.injected(o); err != nil {
		return c.wrap(o, err)
	}
	return nil
}

// wrap dresses err as the SDK returns it: a *smithy.OperationError holding
// an *awshttp.ResponseError (status 400, or 500 for server faults) that
// holds the typed exception. errors.As therefore finds every layer.
func (c *Client) wrap(o op, err error) error {
	var respErr *awshttp.ResponseError
	var apiErr smithy.APIError
	switch {
	case errors.Is(err, context.Canceled):
		err = &smithy.CanceledError{Err: err}
	case errors.As(err, &respErr):
		// Already shaped like an HTTP error (InternalFailure).
	case errors.As(err, &apiErr):
		status := http.StatusBadRequest
		if apiErr.ErrorFault() == smithy.FaultServer {
			status = http.StatusInternalServerError
		}
		err = newResponseError(status, c.requestID(), err)
	}
	return &smithy.OperationError{ServiceID: "Kinesis", OperationName: opNames[o], Err: err}
}

func (c *Client) requestID() string {
	n := c.reqID.Add(1)
	return fmt.Sprintf("%08x-%04x-4%03x-8000-%012x", uint32(n>>32), uint16(n>>16), uint16(n)&0xfff, n)
}

func newResponseError(status int, requestID string, err error) *awshttp.ResponseError {
	return &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{
				StatusCode: status,
				Status:     fmt.Sprintf("%d %s", status, http.StatusText(status)),
				Proto:      "HTTP/1.1",
				ProtoMajor: 1,
				ProtoMinor: 1,
				Header:     http.Header{"X-Amzn-Requestid": {requestID}},
				Body:       http.NoBody,
			}},
			Err: err,
		},
		RequestID: requestID,
	}
}

// stream is one data stream. Its identity fields are immutable.
type stream struct {
	id      uint64
	name    string
	arn     string
	created time.Time
	mode    types.StreamMode

	// Guarded by Client.mu.
	maxRecordSize int      // bytes of data plus partition key
	shards        []*shard // every shard, in ID order; shards[i].idx == i
	open          []*shard // open shards sorted by hash key; they tile the space

	// putMu serializes puts to the stream and resharding, which makes
	// sequence numbers strictly increase in every shard and across the
	// stream, and arrival times never decrease.
	putMu       sync.Mutex
	seq         uint64    // last sequence counter issued; guarded by putMu
	lastArrival time.Time // guarded by putMu
}

// shard is one shard. Fields above mu are immutable.
type shard struct {
	idx        int
	id         string
	parent     string // "" if none
	adjParent  string // "" if none
	start, end u128
	startKey   string // decimal start
	endKey     string // decimal end
	startSeq   string
	created    time.Time

	// mu guards the fields below. closed, endSeq, closedAt and children are
	// written with Client.mu also held for writing, so they may be read
	// under either lock.
	mu       sync.RWMutex
	log      recordLog // pointer fields built at put time, never mutated
	closed   bool
	endSeq   string
	closedAt time.Time
	children []*shard

	rateMu sync.Mutex
	reads  []time.Time // ring of the last ShardReadRate call times; guarded by rateMu
	next   int         // next slot in reads; guarded by rateMu
}

func (c *Client) streamARN(name string) string {
	return "arn:aws:kinesis:" + c.cfg.region + ":" + c.cfg.account + ":stream/" + name
}

// resolveLocked finds the stream that name or arn (either may be nil or
// empty) addresses. c.mu must be held.
func (c *Client) resolveLocked(name, arn *string) (*stream, error) {
	n, a := deref(name), deref(arn)
	if a != "" {
		prefix := "arn:aws:kinesis:"
		rest, ok := strings.CutPrefix(a, prefix)
		var region, account, sname string
		if ok {
			parts := strings.SplitN(rest, ":", 3)
			if len(parts) == 3 {
				region, account = parts[0], parts[1]
				sname, ok = strings.CutPrefix(parts[2], "stream/")
			} else {
				ok = false
			}
		}
		if !ok || sname == "" {
			return nil, invalidArg("StreamARN %s is not a valid Kinesis stream ARN.", a)
		}
		if n != "" && n != sname {
			return nil, invalidArg("StreamName %s does not match the stream in StreamARN %s.", n, a)
		}
		if region != c.cfg.region || account != c.cfg.account {
			return nil, notFound("Stream %s under account %s not found.", sname, account)
		}
		n = sname
	}
	if n == "" {
		return nil, invalidArg("Either StreamName or StreamARN should be provided.")
	}
	s := c.byName[n]
	if s == nil {
		return nil, notFound("Stream %s under account %s not found.", n, c.cfg.account)
	}
	return s, nil
}

// shardLocked finds a shard of s by ID. c.mu must be held.
func (c *Client) shardLocked(s *stream, id string) (*shard, error) {
	if idx, ok := parseShardID(id); ok && idx < len(s.shards) {
		return s.shards[idx], nil
	}
	return nil, notFound("Shard %s in stream %s under account %s does not exist", id, s.name, c.cfg.account)
}

func shardID(idx int) string { return fmt.Sprintf("shardId-%012d", idx) }

func parseShardID(id string) (int, bool) {
	digits, ok := strings.CutPrefix(id, "shardId-")
	if !ok || len(digits) != 12 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(digits); i++ {
		d := digits[i] - '0'
		if d > 9 {
			return 0, false
		}
		n = n*10 + int(d)
	}
	return n, true
}

func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

func ptr[T any](v T) *T { return &v }

func invalidArg(format string, args ...any) error {
	return &types.InvalidArgumentException{Message: ptr(fmt.Sprintf(format, args...))}
}

func notFound(format string, args ...any) error {
	return &types.ResourceNotFoundException{Message: ptr(fmt.Sprintf(format, args...))}
}

func inUse(format string, args ...any) error {
	return &types.ResourceInUseException{Message: ptr(fmt.Sprintf(format, args...))}
}
