// Package lambdainvoke calls a deployed Lambda function as an esm handler.
//
// [Handler] returns an [esm.Handler] that sends each batch to a function
// through Lambda's Invoke API, synchronously (RequestResponse), as Lambda's
// own event source mapping does, so the function receives the event it
// would receive from Lambda and esm applies Lambda's retry, bisect and
// partial-response rules to its answer:
//
//	client := lambda.NewFromConfig(cfg)
//	h, err := lambdainvoke.Handler(client, "my-function", lambdainvoke.Qualifier("live"))
//	…
//	m, err := esm.New(kinesis.NewFromConfig(cfg), streamARN, h,
//		esm.FunctionResponseTypes(esm.ReportBatchItemFailuresType))
//
// # The event
//
// The payload is the Kinesis event Lambda sends (spec §5.3), with its keys
// in Lambda's order: each record's "kinesis" object first, then
// eventSource, eventVersion, eventID, eventName, invokeIdentityArn,
// awsRegion and eventSourceARN. Only the order differs from
// json.Marshal of the [events.KinesisEvent], so the payload has exactly
// the size esm's batcher counted; esm keeps it under Lambda's 6 MB limit.
//
// # Outcomes
//
// How the Invoke API's answer becomes the handler's result (spec §7):
//
//	Invoke API answer                    handler result            esm treats it as
//	200, no X-Amz-Function-Error         parsed partial response   success or partial failure
//	200, invalid partial response        one item with id ""       invalid partial response
//	200, X-Amz-Function-Error            *FunctionError            function error
//	an error (429, 5xx, 4xx, network)    *esm.ThrottleError        throttle: retried, no attempt used
//	413 RequestTooLarge, one record      retry.Permanent(err)      discarded at once
//	413 RequestTooLarge, more records    err                       function error (bisect splits it)
//	ctx done before the answer           ctx.Err()                 function error, as a timeout
//
// An error from Invoke means the batch never reached the function: Lambda
// throttled it (TooManyRequestsException, reserved concurrency 0, EC2 or
// ENI limits), or refused it (ServiceException, permission denied, function
// or alias not found, KMS and VPC errors), or the request never left. Lambda
// retries all of these without using up retry attempts until the records
// expire (spec §7, class 6), so they are all returned as a
// [*esm.ThrottleError] wrapping the SDK's error; the SDK's own retries come
// first. An on-failure record for such a batch carries the refusal's HTTP
// status (429, 500, 403, ...) as its responseContext.statusCode. Inspect the
// cause with errors.As, e.g. for a *types.TooManyRequestsException or a
// *types.ResourceNotFoundException.
//
// A partial response that Lambda would reject (not JSON, not an object, an
// item without a non-empty string itemIdentifier; see [retry.ParseResponse])
// fails the whole batch under ReportBatchItemFailures. Since an
// [esm.Handler] returns a typed response, it is returned as a response with
// one item whose ItemIdentifier is "", which esm's retry rules reject in the
// same way; without ReportBatchItemFailures esm ignores it, as Lambda does.
// The [Logger] option logs why the response was invalid.
package lambdainvoke
