package event_test

import (
	"fmt"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/esmkit/esmkit/internal/event"
)

func BenchmarkConvert(b *testing.B) {
	rec := documentedRecord()
	var dst events.KinesisEventRecord
	b.ReportAllocs()
	for b.Loop() {
		event.Convert(&dst, &documentedSource, &rec)
	}
}

func BenchmarkRecordSize(b *testing.B) {
	for _, key := range []int{1, 256} {
		for _, data := range []int{22, 1 << 20} {
			b.Run(fmt.Sprintf("key=%d/data=%d", key, data), func(b *testing.B) {
				rec := documentedRecord()
				rec.PartitionKey = ptr(fmt.Sprintf("%0*d", key, 7))
				rec.Data = make([]byte, data)
				var r events.KinesisEventRecord
				event.Convert(&r, &documentedSource, &rec)
				b.ReportAllocs()
				for b.Loop() {
					_ = event.RecordSize(&r)
				}
			})
		}
	}
}

// BenchmarkMarshal is the cost RecordSize avoids.
func BenchmarkMarshal(b *testing.B) {
	rec := documentedRecord()
	var r events.KinesisEventRecord
	event.Convert(&r, &documentedSource, &types.Record{
		Data: make([]byte, 1024), SequenceNumber: rec.SequenceNumber,
		PartitionKey: rec.PartitionKey, ApproximateArrivalTimestamp: rec.ApproximateArrivalTimestamp,
	})
	b.ReportAllocs()
	for b.Loop() {
		_ = marshalSize(b, r)
	}
}

// BenchmarkConvertPage converts a 10,000-record page into a fresh zeroed
// array, as esm does for every page read.
func BenchmarkConvertPage(b *testing.B) {
	rec := documentedRecord()
	page := make([]types.Record, 10000)
	for i := range page {
		page[i] = rec
	}
	b.ReportAllocs()
	for b.Loop() {
		dst := make([]events.KinesisEventRecord, len(page))
		event.ConvertPage(dst, &documentedSource, page)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(page)), "ns/record")
}
