package esm_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/esmkit/esmkit/esm"
	"github.com/esmkit/esmkit/internal/testserver"
	"github.com/esmkit/esmkit/kinesistest"
)

// BenchmarkLatency measures put-to-handler latency: one record every 10 ms
// into 4 shards, each carrying its put time, and the handler notes when it
// sees it. b.N is the number of records; p50 and p99 are reported in ms.
//
//	polling/kinesalite: a real *kinesis.Client, PollInterval 200 ms and
//	  Kinesis's 5 GetRecords calls per second per shard.
//	fan-out/kinesistest: enhanced fan-out through the in-memory Kinesis,
//	  which pushes records within 50 ms as AWS documents (~70 ms average).
//	fan-out/kinesis-local: enhanced fan-out through kinesis-local, which
//	  sends one event per second, so its figure is the server's, not ours.
func BenchmarkLatency(b *testing.B) {
	b.Run("polling/kinesalite", func(b *testing.B) {
		api := testserver.KinesisClient(b, testserver.Kinesis(b))
		name := fmt.Sprintf("lat-%d", time.Now().UnixNano())
		arn := createStream(b, api, name, 4)
		latency(b, api, name, arn, esm.AddressStreamByName(true), esm.PollInterval(200*time.Millisecond))
	})
	b.Run("fan-out/kinesistest", func(b *testing.B) {
		kc := kinesistest.New()
		arn := createStream(b, kc, "lat", 4)
		latency(b, kc, "lat", registerConsumer(b, kc, arn, "esm"))
	})
	b.Run("fan-out/kinesis-local", func(b *testing.B) {
		api := testserver.KinesisClient(b, testserver.KinesisMock(b), testserver.InitialResponseShim)
		name := fmt.Sprintf("lat-%d", time.Now().UnixNano())
		arn := createStream(b, api, name, 4)
		latency(b, api, name, registerConsumer(b, api, arn, "esm"))
	})
}

func latency(b *testing.B, api streamAPI, name, arn string, opts ...esm.Option) {
	var mu sync.Mutex
	var lat []time.Duration
	done := make(chan struct{})
	h := func(_ context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
		now := time.Now()
		mu.Lock()
		defer mu.Unlock()
		for _, r := range ev.Records {
			ns, err := strconv.ParseInt(string(r.Kinesis.Data), 10, 64)
			if err != nil {
				continue // a warm-up record
			}
			lat = append(lat, now.Sub(time.Unix(0, ns)))
			if len(lat) == b.N {
				close(done)
			}
		}
		return events.KinesisEventResponse{}, nil
	}
	opts = append([]esm.Option{esm.StartingPosition(esm.Latest)}, opts...)
	m, err := esm.New(api, arn, h, opts...)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- m.Run(ctx) }()
	time.Sleep(3 * time.Second) // every shard has its LATEST position or subscription
	b.ResetTimer()
	tick := time.NewTicker(10 * time.Millisecond)
	for i := 0; i < b.N; i++ {
		<-tick.C
		data := strconv.FormatInt(time.Now().UnixNano(), 10)
		if _, err := api.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(name),
			Records: []types.PutRecordsRequestEntry{{PartitionKey: aws.String(strconv.Itoa(i)), Data: []byte(data)}}}); err != nil {
			b.Fatal(err)
		}
	}
	tick.Stop()
	select {
	case <-done:
	case <-time.After(time.Minute):
		b.Fatalf("only %d of %d records arrived", len(lat), b.N)
	}
	b.StopTimer()
	cancel()
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / float64(time.Millisecond) }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
}
