// Command quickstart runs a Lambda-style Kinesis handler over an in-memory
// stream: no AWS account and no server needed.
//
// It creates a 4-shard stream in kinesistest, writes 100,000 JSON order
// records carrying personal data (email, phone), and runs an esm.Mapping
// whose handler redacts that data, as a Lambda function would. It prints
// progress once a second and a summary at the end.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/esmkit/esmkit/esm"
	"github.com/esmkit/esmkit/kinesistest"
)

const (
	streamName = "orders"
	shards     = 4
	total      = 100_000
)

// order is what producers write. Email and Phone must not leave the handler.
type order struct {
	ID       int     `json:"id"`
	Customer string  `json:"customer"`
	Email    string  `json:"email"`
	Phone    string  `json:"phone"`
	Amount   float64 `json:"amount"`
}

// stats is shared by the handler (called concurrently for different shards)
// and the progress printer.
type stats struct {
	records, batches, redacted atomic.Int64
	maxAgeMillis               atomic.Int64
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	kc := kinesistest.New()
	arn, err := kc.AddStream(streamName, shards)
	if err != nil {
		return err
	}

	var st stats
	allDone := make(chan struct{})
	handler := func(ctx context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
		for _, r := range ev.Records {
			var o order
			if err := json.Unmarshal(r.Kinesis.Data, &o); err != nil {
				return events.KinesisEventResponse{}, fmt.Errorf("record %s: %w", r.EventID, err)
			}
			o.Email, o.Phone = redactEmail(o.Email), redactPhone(o.Phone)
			if _, err := json.Marshal(o); err != nil { // a real handler would forward this
				return events.KinesisEventResponse{}, err
			}
			st.redacted.Add(2)
		}
		last := ev.Records[len(ev.Records)-1].Kinesis.ApproximateArrivalTimestamp.Time
		age := time.Since(last).Milliseconds()
		for {
			cur := st.maxAgeMillis.Load()
			if age <= cur || st.maxAgeMillis.CompareAndSwap(cur, age) {
				break
			}
		}
		st.batches.Add(1)
		if st.records.Add(int64(len(ev.Records))) == total {
			close(allDone)
		}
		return events.KinesisEventResponse{}, nil
	}

	m, err := esm.New(kc, arn, handler,
		esm.StartingPosition(esm.TrimHorizon),
		esm.BatchSize(500),
		esm.PollInterval(200*time.Millisecond),
		esm.ReadRateLimit(0), // an in-memory stream has no 5 calls/s limit
	)
	if err != nil {
		return err
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- m.Run(runCtx) }()

	start := time.Now()
	produced := make(chan error, 1)
	go func() { produced <- produce(runCtx, kc) }()

	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	fmt.Printf("esmkit quickstart: %d records into %d shards of %q\n", total, shards, streamName)
	for waiting := true; waiting; {
		select {
		case <-allDone:
			waiting = false
		case err := <-produced:
			if err != nil {
				return fmt.Errorf("producer: %w", err)
			}
			produced = nil
		case <-tick.C:
			fmt.Printf("  %6.1fs  %7d records  %5d batches\n", time.Since(start).Seconds(), st.records.Load(), st.batches.Load())
		case err := <-runErr:
			return fmt.Errorf("mapping stopped early: %v", err)
		case <-ctx.Done():
			cancel()
			return <-runErr
		}
	}
	elapsed := time.Since(start)
	cancel()
	if err := <-runErr; err != nil {
		return err
	}
	fmt.Printf("done: %d records in %d batches, %.0f records/s, %d fields redacted, max iterator age %d ms\n",
		st.records.Load(), st.batches.Load(), float64(st.records.Load())/elapsed.Seconds(), st.redacted.Load(), st.maxAgeMillis.Load())
	return nil
}

// produce writes the orders with PutRecords, 500 at a time.
func produce(ctx context.Context, kc *kinesistest.Client) error {
	for i := 0; i < total; i += 500 {
		in := &kinesis.PutRecordsInput{StreamName: aws.String(streamName)}
		for j := i; j < min(i+500, total); j++ {
			o := order{
				ID:       j,
				Customer: fmt.Sprintf("customer-%d", j%1000),
				Email:    fmt.Sprintf("person%d@example.com", j%1000),
				Phone:    fmt.Sprintf("+1-555-%03d-%04d", j%1000, j%10000),
				Amount:   float64(j%10000) / 100,
			}
			data, err := json.Marshal(o)
			if err != nil {
				return err
			}
			in.Records = append(in.Records, types.PutRecordsRequestEntry{PartitionKey: aws.String(o.Customer), Data: data})
		}
		if _, err := kc.PutRecords(ctx, in); err != nil {
			return err
		}
	}
	return nil
}

func redactEmail(s string) string {
	at := strings.IndexByte(s, '@')
	if at <= 0 {
		return "***"
	}
	return s[:1] + "***" + s[at:]
}

func redactPhone(s string) string {
	if len(s) <= 4 {
		return "***"
	}
	return "***" + s[len(s)-4:]
}
