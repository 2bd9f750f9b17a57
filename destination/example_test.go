package destination_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/esmkit/esmkit/destination"
)

func Example() {
	// A Func destination keeps discarded batches without AWS; an
	// sqsdestination.Queue, snsdestination.Topic or s3destination.Bucket
	// takes its place in production.
	dst, err := destination.New(destination.Func(func(_ context.Context, inv *destination.Invocation) error {
		fmt.Printf("%s: %d records of %s from %s to %s\n", inv.Condition, inv.BatchSize,
			inv.ShardID, inv.StartSequenceNumber, inv.EndSequenceNumber)
		for _, r := range inv.Event.Records {
			fmt.Printf("  %s %q\n", r.Kinesis.PartitionKey, r.Kinesis.Data)
		}
		return nil
	}))
	if err != nil {
		log.Fatal(err)
	}
	defer dst.Close()

	arrival := time.Date(2019, 11, 14, 0, 38, 4, 835_000_000, time.UTC)
	record := func(seq, key, data string) events.KinesisEventRecord {
		return events.KinesisEventRecord{
			EventID: "shardId-000000000001:" + seq, EventName: "aws:kinesis:record",
			EventSource: "aws:kinesis", EventVersion: "1.0", AwsRegion: "us-east-2",
			EventSourceArn: "arn:aws:kinesis:us-east-2:123456789012:stream/mystream",
			Kinesis: events.KinesisRecord{
				KinesisSchemaVersion: "1.0", PartitionKey: key, SequenceNumber: seq, Data: []byte(data),
				ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: arrival},
			},
		}
	}
	// What esm fills in when it gives up on a batch.
	err = dst.Send(context.Background(), &destination.Invocation{
		RequestID:                       "c9b8fa9f-5a7f-xmpl-af9c-0c604cde93a5",
		FunctionARN:                     "arn:aws:lambda:us-east-2:123456789012:function:myfunction",
		Condition:                       destination.RetryAttemptsExhausted,
		ApproximateInvokeCount:          3,
		StatusCode:                      200,
		ExecutedVersion:                 "$LATEST",
		FunctionError:                   "Unhandled",
		ShardID:                         "shardId-000000000001",
		StartSequenceNumber:             "49601189658422359378836298521827638475320189012309704722",
		EndSequenceNumber:               "49601189658422359378836298521827638475320189012309704723",
		ApproximateArrivalOfFirstRecord: arrival,
		ApproximateArrivalOfLastRecord:  arrival,
		BatchSize:                       2,
		StreamARN:                       "arn:aws:kinesis:us-east-2:123456789012:stream/mystream",
		MappingUUID:                     "a1b2c3d4-5678-90ab-cdef-11111EXAMPLE",
		Event: events.KinesisEvent{Records: []events.KinesisEventRecord{
			record("49601189658422359378836298521827638475320189012309704722", "order-1", "bad input"),
			record("49601189658422359378836298521827638475320189012309704723", "order-1", "also bad"),
		}},
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// RetryAttemptsExhausted: 2 records of shardId-000000000001 from 49601189658422359378836298521827638475320189012309704722 to 49601189658422359378836298521827638475320189012309704723
	//   order-1 "bad input"
	//   order-1 "also bad"
}

// ExampleMarshalRecord prints the document an SQS queue or SNS topic gets.
func ExampleMarshalRecord() {
	at := time.Date(2019, 11, 14, 0, 38, 4, 835_000_000, time.UTC)
	body, err := destination.MarshalRecord(&destination.Invocation{
		RequestID:                       "c9b8fa9f-5a7f-xmpl-af9c-0c604cde93a5",
		FunctionARN:                     "arn:aws:lambda:us-east-2:123456789012:function:myfunction",
		Condition:                       destination.RecordAgeExceeded,
		ApproximateInvokeCount:          1,
		StatusCode:                      200,
		ExecutedVersion:                 "$LATEST",
		FunctionError:                   "Unhandled",
		Timestamp:                       at.Add(1186 * time.Millisecond),
		ShardID:                         "shardId-000000000001",
		StartSequenceNumber:             "49601189658422359378836298521827638475320189012309704722",
		EndSequenceNumber:               "49601189658422359378836298521827638475320189012309704722",
		ApproximateArrivalOfFirstRecord: at,
		ApproximateArrivalOfLastRecord:  at,
		BatchSize:                       1,
		StreamARN:                       "arn:aws:kinesis:us-east-2:123456789012:stream/mystream",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(body))
	// Output:
	// {"requestContext":{"requestId":"c9b8fa9f-5a7f-xmpl-af9c-0c604cde93a5","functionArn":"arn:aws:lambda:us-east-2:123456789012:function:myfunction","condition":"RecordAgeExceeded","approximateInvokeCount":1},"responseContext":{"statusCode":200,"executedVersion":"$LATEST","functionError":"Unhandled"},"version":"1.0","timestamp":"2019-11-14T00:38:06.021Z","KinesisBatchInfo":{"shardId":"shardId-000000000001","startSequenceNumber":"49601189658422359378836298521827638475320189012309704722","endSequenceNumber":"49601189658422359378836298521827638475320189012309704722","approximateArrivalOfFirstRecord":"2019-11-14T00:38:04.835Z","approximateArrivalOfLastRecord":"2019-11-14T00:38:04.835Z","batchSize":1,"streamArn":"arn:aws:kinesis:us-east-2:123456789012:stream/mystream"}}
}
