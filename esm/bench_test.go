package esm_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/esmkit/esmkit/esm"
	"github.com/esmkit/esmkit/kinesistest"
)

// BenchmarkMapping measures end-to-end throughput through kinesistest: b.N
// records spread over 4 shards are read from TRIM_HORIZON, converted,
// batched and handed to a no-op handler. One op is one record, so allocs/op
// is allocations per record.
func BenchmarkMapping(b *testing.B) {
	for _, size := range []int{100, 1024} {
		for _, batch := range []int{100, 10000} {
			b.Run(fmt.Sprintf("record=%dB/batch=%d", size, batch), func(b *testing.B) {
				benchMapping(b, 4, size, batch)
			})
		}
	}
}

func benchMapping(b *testing.B, shards, size, batch int) {
	b.StopTimer()
	kc := kinesistest.New()
	arn, err := kc.AddStream("bench", shards)
	if err != nil {
		b.Fatal(err)
	}
	data := make([]byte, size)
	for i := range data {
		data[i] = byte('a' + i%26)
	}
	ctx := context.Background()
	for i := 0; i < b.N; i += 500 {
		in := &kinesis.PutRecordsInput{StreamName: aws.String("bench")}
		for j := i; j < min(i+500, b.N); j++ {
			in.Records = append(in.Records, types.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprint(j)), Data: data})
		}
		if _, err := kc.PutRecords(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	var seen atomic.Int64
	done := make(chan struct{})
	want := int64(b.N)
	h := func(_ context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
		if seen.Add(int64(len(ev.Records))) == want {
			close(done)
		}
		return events.KinesisEventResponse{}, nil
	}
	m, err := esm.New(kc, arn, h, esm.StartingPosition(esm.TrimHorizon), esm.BatchSize(batch), esm.ReadRateLimit(0))
	if err != nil {
		b.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	b.ReportAllocs()
	b.ResetTimer()
	b.StartTimer()
	start := time.Now()
	go func() { errc <- m.Run(runCtx) }()
	<-done
	elapsed := time.Since(start)
	b.StopTimer()
	cancel()
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "records/s")
}

// BenchmarkParallelizationFactor reads one shard with a handler that takes
// 10 ms per batch, so throughput is bound by how many batches are in flight.
// One op is one record.
func BenchmarkParallelizationFactor(b *testing.B) {
	for _, pf := range []int{1, 10} {
		b.Run(fmt.Sprintf("factor=%d", pf), func(b *testing.B) {
			b.StopTimer()
			kc := kinesistest.New()
			arn, err := kc.AddStream("pf", 1)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			for i := 0; i < b.N; i += 500 {
				in := &kinesis.PutRecordsInput{StreamName: aws.String("pf")}
				for j := i; j < min(i+500, b.N); j++ {
					in.Records = append(in.Records, types.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprint(j)), Data: []byte("x")})
				}
				if _, err := kc.PutRecords(ctx, in); err != nil {
					b.Fatal(err)
				}
			}
			var seen atomic.Int64
			done := make(chan struct{})
			h := func(_ context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
				time.Sleep(10 * time.Millisecond)
				if seen.Add(int64(len(ev.Records))) == int64(b.N) {
					close(done)
				}
				return events.KinesisEventResponse{}, nil
			}
			m, err := esm.New(kc, arn, h, esm.StartingPosition(esm.TrimHorizon), esm.BatchSize(100),
				esm.ParallelizationFactor(pf), esm.ReadRateLimit(0))
			if err != nil {
				b.Fatal(err)
			}
			runCtx, cancel := context.WithCancel(ctx)
			errc := make(chan error, 1)
			b.ResetTimer()
			b.StartTimer()
			start := time.Now()
			go func() { errc <- m.Run(runCtx) }()
			<-done
			elapsed := time.Since(start)
			b.StopTimer()
			cancel()
			if err := <-errc; err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "records/s")
		})
	}
}
