package kinesistest

import (
	"fmt"
	"math/rand/v2"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
)

// Trigger says which calls an injected fault fails. Make one with Every,
// FirstN or Probability; Inject panics on the zero Trigger. A Trigger is a
// plain value: each Inject starts its own count.
type Trigger struct {
	kind triggerKind
	n    int
	p    float64
	seed uint64
}

type triggerKind int

const (
	triggerInvalid triggerKind = iota
	triggerEvery
	triggerFirstN
	triggerProbability
)

// Every fires on the nth call after injection, and every nth call after
// that: Every(3) fails calls 3, 6, 9, …; Every(1) fails all. Inject panics
// if n < 1.
func Every(n int) Trigger { return Trigger{kind: triggerEvery, n: n} }

// FirstN fires on the first n calls after injection, then never again:
// FirstN(1) fails the next call only. Inject panics if n < 1.
func FirstN(n int) Trigger { return Trigger{kind: triggerFirstN, n: n} }

// Probability fires on each call with probability p, drawing from a
// generator seeded with seed, so a test sees the same sequence of failures
// on every run (given the same order of calls). Inject panics if p is not
// in [0, 1].
func Probability(p float64, seed uint64) Trigger {
	return Trigger{kind: triggerProbability, p: p, seed: seed}
}

// fault is an injected fault and its state.
type fault struct {
	op    op
	t     Trigger
	err   error
	calls int        // calls of op seen since injection
	rng   *rand.Rand // for Probability
}

// fire advances f by one call and reports whether the call fails.
// Client.faultMu must be held.
func (f *fault) fire() bool {
	f.calls++
	switch f.t.kind {
	case triggerFirstN:
		return f.calls <= f.t.n
	case triggerProbability:
		return f.rng.Float64() < f.t.p
	default:
		return f.calls%f.t.n == 0
	}
}

// Inject makes calls of operation op (an SDK operation name such as
// "GetRecords" or "PutRecords") that t selects fail with err, before they
// do any work. Calls still count in Calls.
//
// A fault counts every call of its operation made after it is injected,
// including calls that another fault fails; when several faults fire on
// one call, the one injected first supplies the error. Every returned
// error is wrapped as the SDK wraps errors (see the package doc), so tests
// classify it with errors.As. Throttling, LimitExceeded, ExpiredIterator
// and InternalFailure make the usual errors; any other error works too.
//
// Inject panics if op is not an operation Client implements or t is out
// of range, as these are mistakes in the test. It is safe for concurrent
// use, also while calls are in flight.
func (c *Client) Inject(op string, t Trigger, err error) {
	o := lookupOp(op)
	f := &fault{op: o, t: t, err: err}
	switch t.kind {
	case triggerEvery, triggerFirstN:
		if t.n < 1 {
			panic(fmt.Sprintf("kinesistest: Inject %s: trigger count %d < 1", op, t.n))
		}
	case triggerProbability:
		if !(t.p >= 0 && t.p <= 1) {
			panic(fmt.Sprintf("kinesistest: Inject %s: probability %v not in [0, 1]", op, t.p))
		}
		f.rng = rand.New(rand.NewPCG(t.seed, t.seed^0x9E3779B97F4A7C15))
	default:
		panic(fmt.Sprintf("kinesistest: Inject %s: zero Trigger; use Every, FirstN or Probability", op))
	}
	if err == nil {
		panic(fmt.Sprintf("kinesistest: Inject %s: nil error", op))
	}
	c.faultMu.Lock()
	defer c.faultMu.Unlock()
	c.faults = append(c.faults, f)
	c.nFaults.Store(int32(len(c.faults)))
}

// ClearFaults removes every injected fault. It is safe for concurrent use.
func (c *Client) ClearFaults() {
	c.faultMu.Lock()
	defer c.faultMu.Unlock()
	c.faults = nil
	c.nFaults.Store(0)
}

// injected advances the faults of o and returns the error of the first
// that fires, or nil.
func (c *Client) injected(o op) error {
	c.faultMu.Lock()
	defer c.faultMu.Unlock()
	var err error
	for _, f := range c.faults {
		if f.op == o && f.fire() && err == nil {
			err = f.err
		}
	}
	return err
}

// ExpireIterators makes every shard iterator issued so far fail with
// *types.ExpiredIteratorException, as if five minutes had passed; iterators
// issued afterwards are unaffected. It is safe for concurrent use.
func (c *Client) ExpireIterators() { c.epoch.Add(1) }

// Throttling returns the error Kinesis returns when a shard's or an
// account's throughput is exceeded: *types.ProvisionedThroughputExceededException.
func Throttling() error {
	return &types.ProvisionedThroughputExceededException{Message: ptr(
		"Rate exceeded for shard in stream under account (injected by kinesistest).")}
}

// LimitExceeded returns the error Kinesis returns when a control-plane
// request rate or a resource limit is exceeded: *types.LimitExceededException.
func LimitExceeded() error {
	return &types.LimitExceededException{Message: ptr("Rate exceeded (injected by kinesistest).")}
}

// ExpiredIterator returns the error GetRecords returns for an iterator
// older than five minutes: *types.ExpiredIteratorException.
func ExpiredIterator() error {
	return &types.ExpiredIteratorException{Message: ptr("Iterator expired (injected by kinesistest).")}
}

// InternalFailure returns an error shaped exactly like the SDK's for an
// HTTP 500 from Kinesis: an *awshttp.ResponseError (package
// github.com/aws/aws-sdk-go-v2/aws/transport/http) whose HTTPStatusCode()
// is 500, holding a *smithy.GenericAPIError with Code "InternalFailure"
// and Fault smithy.FaultServer.
func InternalFailure() error {
	return newResponseError(http.StatusInternalServerError, "00000000-0000-4000-8000-000000000500", &smithy.GenericAPIError{
		Code:    "InternalFailure",
		Message: "Internal service failure (injected by kinesistest).",
		Fault:   smithy.FaultServer,
	})
}
