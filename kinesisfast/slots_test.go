package kinesisfast_test

import (
	"context"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/esmkit/esmkit/kinesisfast"
)

// TestDecodesAreBounded holds every decode slot: a call then waits for
// one instead of reading its body, and a call whose context ends while it
// waits hands the response to the SDK's decoder rather than hang.
func TestDecodesAreBounded(t *testing.T) {
	g := &gen{rng: rand.New(rand.NewPCG(1, 1)), size: func(*rand.Rand) int { return 10 }}
	client := newClient(&canned{status: http.StatusOK, body: g.body(3)}, true)
	for range cap(kinesisfast.DecodeSlots) {
		kinesisfast.DecodeSlots <- struct{}{}
	}
	defer func() {
		for len(kinesisfast.DecodeSlots) > 0 {
			<-kinesisfast.DecodeSlots
		}
	}()
	wait := func(done <-chan result) (result, bool) {
		select {
		case r := <-done:
			return r, true
		case <-time.After(10 * time.Second):
			return result{}, false
		}
	}

	done := make(chan result, 1)
	go func() { done <- call(context.Background(), client) }()
	select {
	case r := <-done:
		t.Fatalf("call finished with every slot taken: %+v", r)
	case <-time.After(100 * time.Millisecond):
	}
	<-kinesisfast.DecodeSlots
	if r, ok := wait(done); !ok || r.err != nil || r.out == nil || len(r.out.Records) != 3 {
		t.Fatalf("after a slot freed: finished %v, %+v", ok, r)
	}

	kinesisfast.DecodeSlots <- struct{}{}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { done <- call(ctx, client) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	// The SDK's decoder reads the in-memory body regardless.
	if r, ok := wait(done); !ok || r.err != nil || r.out == nil || len(r.out.Records) != 3 {
		t.Fatalf("cancelled while waiting for a slot: finished %v, %+v", ok, r)
	}
}
