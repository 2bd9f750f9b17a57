package retry_test

import (
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/esmkit/esmkit/retry"
)

// BenchmarkPlan runs one batch through a Plan: NewPlan, Next, Report, Next.
// One op is one batch. The success paths allocate nothing.
func BenchmarkPlan(b *testing.B) {
	recs := records(100, nil)
	rbifAge := retry.DefaultPolicy()
	rbifAge.ReportBatchItemFailures = true
	rbifAge.MaximumRecordAge = time.Hour
	for _, bc := range []struct {
		name string
		p    retry.Policy
		o    retry.Outcome
	}{
		{"success", retry.DefaultPolicy(), retry.Result(events.KinesisEventResponse{}, nil)},
		{"success/report-item-failures+age", rbifAge, retry.Result(events.KinesisEventResponse{BatchItemFailures: []events.KinesisBatchItemFailure{}}, nil)},
		{"success/raw-ignored", retry.DefaultPolicy(), retry.RawResult([]byte(`{"batchItemFailures":[]}`), nil)},
		{"partial-then-success", rbifAge, retry.Result(fails(60), nil)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				pl := retry.NewPlan(bc.p, recs, nil)
				now, o := t0, bc.o
			batch:
				for {
					switch a := pl.Next(now); a.Kind {
					case retry.Wait:
						now = now.Add(a.Delay)
					case retry.Invoke:
						pl.Report(now, o)
						o = retry.Outcome{}
					case retry.Discard:
						b.Fatalf("unexpected discard %+v", a)
					case retry.Done:
						break batch
					}
				}
			}
		})
	}
}
