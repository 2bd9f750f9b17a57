// Command sdkconvert is the sdk-convert contender: sdk-loop, plus turning
// every page into the Lambda event records a handler would get, with
// esmkit's own conversion (one array per page, its strings copied into one
// allocation per page), and nothing else: no batching, no handler call, no
// checkpoint. It is the least any consumer that hands aws-lambda-go events
// to a handler must do on top of the raw loop, so it bounds from above what
// esmkit-sdk can reach.
package main

import (
	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/esmkit/esmkit/benchmarks/internal/harness"
	"github.com/esmkit/esmkit/benchmarks/internal/sdkloop"
	"github.com/esmkit/esmkit/internal/event"
)

func main() { harness.Main("sdk-convert", sdkloop.Start(convert)) }

func convert(src *event.Source, recs []types.Record) {
	dst := make([]events.KinesisEventRecord, len(recs))
	event.ConvertPage(dst, src, recs)
}
