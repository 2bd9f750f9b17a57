package lambdainvoke_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/esmkit/esmkit/lambdainvoke"
	"github.com/esmkit/esmkit/lambdainvoke/lambdainvoketest"
)

// sized is a batch of n records of size bytes of data each.
func sized(n, size int) events.KinesisEvent {
	ev := batch(n)
	for i := range ev.Records {
		ev.Records[i].Kinesis.Data = make([]byte, size)
	}
	return ev
}

// BenchmarkEncode compares Encode (Lambda's key order) with json.Marshal.
func BenchmarkEncode(b *testing.B) {
	for _, c := range []struct{ n, size int }{{100, 1024}, {1000, 4096}} {
		ev := sized(c.n, c.size)
		payload, _ := lambdainvoke.Encode(&ev)
		b.Run(fmt.Sprintf("Encode/%dx%dB", c.n, c.size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(payload)))
			for b.Loop() {
				if _, err := lambdainvoke.Encode(&ev); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("json.Marshal/%dx%dB", c.n, c.size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(payload)))
			for b.Loop() {
				if _, err := json.Marshal(&ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHandler is one invocation through the SDK and a local Invoke
// API whose function answers null: the cost esm pays per batch, less the
// network and the function.
func BenchmarkHandler(b *testing.B) {
	srv := lambdainvoketest.NewServer()
	defer srv.Close()
	srv.AddFunction("fn", raw(`null`))
	h, err := lambdainvoke.Handler(srv.Client(), "fn")
	if err != nil {
		b.Fatal(err)
	}
	ev := sized(100, 1024)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h(context.Background(), ev); err != nil {
			b.Fatal(err)
		}
	}
}
