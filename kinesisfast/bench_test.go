package kinesisfast_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/esmkit/esmkit/internal/event"
	"github.com/esmkit/esmkit/kinesisfast"
)

// BenchmarkGetRecords measures whole GetRecords calls (serialize, sign,
// send to a canned in-process HTTP client, decode) on one page of n
// records of the given Data size, as the service writes them. Modes:
//
//	sdk          the SDK's decoder
//	fast         this package's decoder
//	sdk+convert  the SDK's decoder, then event.Convert per record (esm today)
//	fast+convert this package's decoder, then event.Convert per record
//	fast+events  this package's decoder with an EventPage
//
// Per-record figures are reported as ns/record, allocs/record, B/record and
// records/s.
func BenchmarkGetRecords(b *testing.B) {
	src := event.Source{StreamARN: "arn:aws:kinesis:us-east-1:123456789012:stream/s", Region: "us-east-1", ShardID: "shardId-000000000000"}
	for _, n := range []int{1000, 10000} {
		for _, size := range []int{100, 1024} {
			g := &gen{rng: rand.New(rand.NewPCG(9, 9)), size: func(*rand.Rand) int { return size }}
			c := &canned{status: http.StatusOK, body: g.body(n)}
			for _, mode := range []string{"sdk", "fast", "sdk+convert", "fast+convert", "fast+events"} {
				b.Run(fmt.Sprintf("records=%d/size=%d/%s", n, size, mode), func(b *testing.B) {
					client := newClient(c, strings.HasPrefix(mode, "fast"))
					ctx := context.Background()
					var ev *kinesisfast.EventPage
					if mode == "fast+events" {
						ev = &kinesisfast.EventPage{StreamARN: src.StreamARN, Region: src.Region, ShardID: src.ShardID}
						ctx = kinesisfast.WithEventPage(ctx, ev)
					}
					convert := mode == "sdk+convert" || mode == "fast+convert"
					b.SetBytes(int64(len(c.body)))
					b.ReportAllocs()
					var before, after runtime.MemStats
					runtime.ReadMemStats(&before)
					for b.Loop() {
						out, err := client.GetRecords(ctx, input)
						if err != nil {
							b.Fatal(err)
						}
						if len(out.Records) != n || ev != nil && len(ev.Records) != n {
							b.Fatalf("got %d records, want %d", len(out.Records), n)
						}
						if convert {
							recs := make([]events.KinesisEventRecord, n)
							for i := range out.Records {
								event.Convert(&recs[i], &src, &out.Records[i])
							}
						}
					}
					runtime.ReadMemStats(&after)
					recs := float64(b.N) * float64(n)
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/recs, "ns/record")
					b.ReportMetric(recs/b.Elapsed().Seconds(), "records/s")
					b.ReportMetric(float64(after.Mallocs-before.Mallocs)/recs, "allocs/record")
					b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/recs, "B/record")
				})
			}
		}
	}
}
