// Command lambda-invoke runs a Kinesis event source mapping that invokes a
// deployed Lambda function, as Lambda's own mapping would: esmkit reads the
// stream and the function gets the same event and the same retry, bisect
// and partial-response rules.
//
// Against AWS (credentials and region from the default chain: environment,
// shared config and credentials files, SSO, container or instance role):
//
//	go run ./examples/lambda-invoke -function my-function -stream arn:aws:kinesis:us-east-1:123456789012:stream/orders
//
// Without an account, with an in-memory stream and an in-process Invoke
// API serving a Go function:
//
//	go run ./examples/lambda-invoke -local
//
// Flags:
//
//	-function NAME    function name, partial ARN or ARN (required unless -local)
//	-qualifier Q      version or alias to invoke (default: none, $LATEST)
//	-stream ARN       Kinesis stream ARN (required unless -local)
//	-region R         AWS region (default: from the default chain)
//	-lambda-endpoint URL, -kinesis-endpoint URL
//	                  endpoint overrides, for local compatible servers
//	-local            run locally with no AWS
//
// It stops on Ctrl-C (after in-flight batches finish), or in -local mode
// when every record has been processed, and prints the mapping's counters.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	lambdago "github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/esmkit/esmkit/esm"
	"github.com/esmkit/esmkit/kinesistest"
	"github.com/esmkit/esmkit/lambdainvoke"
	"github.com/esmkit/esmkit/lambdainvoke/lambdainvoketest"
)

type flags struct {
	function, qualifier, stream, region string
	lambdaEndpoint, kinesisEndpoint     string
	local                               bool
}

func main() {
	var f flags
	flag.StringVar(&f.function, "function", "", "function name, partial ARN or ARN to invoke")
	flag.StringVar(&f.qualifier, "qualifier", "", "version or alias to invoke")
	flag.StringVar(&f.stream, "stream", "", "Kinesis stream ARN")
	flag.StringVar(&f.region, "region", "", "AWS region (default: from the default config chain)")
	flag.StringVar(&f.lambdaEndpoint, "lambda-endpoint", "", "Lambda endpoint override, e.g. http://localhost:9001")
	flag.StringVar(&f.kinesisEndpoint, "kinesis-endpoint", "", "Kinesis endpoint override, e.g. http://localhost:4567")
	flag.BoolVar(&f.local, "local", false, "use an in-memory stream and an in-process function; no AWS needed")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var err error
	if f.local {
		err = runLocal(ctx)
	} else {
		err = runAWS(ctx, f)
	}
	if err != nil {
		log.Fatal(err)
	}
}

// mappingOptions are the settings of a typical Lambda mapping with
// partial batch responses and bisect.
func mappingOptions() []esm.Option {
	return []esm.Option{
		esm.StartingPosition(esm.TrimHorizon),
		esm.BatchSize(100),
		esm.FunctionResponseTypes(esm.ReportBatchItemFailuresType),
		esm.BisectBatchOnFunctionError(true),
		esm.MaximumRetryAttempts(2),
		esm.FunctionTimeout(time.Minute),
		esm.Logger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))),
	}
}

func runAWS(ctx context.Context, f flags) error {
	if f.function == "" || f.stream == "" {
		flag.Usage()
		return errors.New("-function and -stream are required (or use -local)")
	}
	var loadOpts []func(*config.LoadOptions) error
	if f.region != "" {
		loadOpts = append(loadOpts, config.WithRegion(f.region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return fmt.Errorf("load AWS config: %w", err)
	}
	lc := lambda.NewFromConfig(cfg, func(o *lambda.Options) {
		if f.lambdaEndpoint != "" {
			o.BaseEndpoint = aws.String(f.lambdaEndpoint)
		}
	})
	kc := kinesis.NewFromConfig(cfg, func(o *kinesis.Options) {
		if f.kinesisEndpoint != "" {
			o.BaseEndpoint = aws.String(f.kinesisEndpoint)
		}
	})
	var opts []lambdainvoke.Option
	if f.qualifier != "" {
		opts = append(opts, lambdainvoke.Qualifier(f.qualifier))
	}
	h, err := lambdainvoke.Handler(lc, f.function, opts...)
	if err != nil {
		return err
	}
	m, err := esm.New(kc, f.stream, h, append(mappingOptions(), esm.StartingPosition(esm.Latest))...)
	if err != nil {
		return err
	}
	fmt.Printf("invoking %s for each batch of %s; Ctrl-C stops\n", f.function, f.stream)
	err = m.Run(ctx) // blocks until Ctrl-C; nil after a clean stop
	printStats(m.Stats())
	return err
}

// order is what the local producer writes.
type order struct {
	ID     int     `json:"id"`
	Amount float64 `json:"amount"`
}

const (
	localStream  = "orders"
	localRecords = 1000
	poisonEvery  = 250 // every 250th record is not JSON
)

func runLocal(ctx context.Context) error {
	// The "deployed" function, written exactly as for lambda.Start: it
	// reports the first record it cannot decode as a batch item failure.
	// Lambda's rules then retry from that record, and once the retries
	// are used up discard it with the rest of its batch.
	var processed atomic.Int64
	function := func(_ context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
		var resp events.KinesisEventResponse
		for _, r := range ev.Records {
			var o order
			if err := json.Unmarshal(r.Kinesis.Data, &o); err != nil {
				resp.BatchItemFailures = append(resp.BatchItemFailures,
					events.KinesisBatchItemFailure{ItemIdentifier: r.Kinesis.SequenceNumber})
				return resp, nil // the records after it are retried too
			}
			processed.Add(1)
		}
		return resp, nil
	}
	srv := lambdainvoketest.NewServer()
	defer srv.Close()
	srv.AddFunction("orders-consumer", lambdago.NewHandler(function))
	srv.FailNext(3, lambdainvoketest.TooManyRequests()) // a cold start under reserved concurrency
	fmt.Printf("local Invoke API at %s, function orders-consumer\n", srv.URL)

	kc := kinesistest.New()
	arn, err := kc.AddStream(localStream, 2)
	if err != nil {
		return err
	}
	for i := 1; i <= localRecords; i++ {
		data := []byte("not json")
		if i%poisonEvery != 0 {
			data, _ = json.Marshal(order{ID: i, Amount: float64(i) / 10})
		}
		if _, _, err := kc.Put(ctx, localStream, strconv.Itoa(i%16), data); err != nil {
			return err
		}
	}

	h, err := lambdainvoke.Handler(srv.Client(), "orders-consumer")
	if err != nil {
		return err
	}
	m, err := esm.New(kc, arn, h, append(mappingOptions(),
		esm.RetryBackoff(10*time.Millisecond, 100*time.Millisecond),
		esm.ReadRateLimit(0))...)
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- m.Run(runCtx) }()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	// Every record is either processed by the function or discarded.
	for processed.Load()+m.Stats().DroppedEventCount < localRecords {
		select {
		case <-tick.C:
		case <-ctx.Done():
			cancel()
			return <-runErr
		case err := <-runErr:
			return fmt.Errorf("mapping stopped early: %w", err)
		}
	}
	cancel()
	err = <-runErr
	fmt.Printf("function processed %d of %d records (%d were not JSON)\n", processed.Load(), localRecords, localRecords/poisonEvery)
	fmt.Println("as in Lambda, a reported failure is retried with the rest of its batch, and all of them are discarded when the retries run out")
	printStats(m.Stats())
	return err
}

func printStats(s esm.Stats) {
	fmt.Printf("invocations %d, function errors %d, throttles %d, records invoked %d, failed %d, dropped %d\n",
		s.Invocations, s.Errors, s.Throttles, s.InvokedEventCount, s.FailedInvokeEventCount, s.DroppedEventCount)
}
