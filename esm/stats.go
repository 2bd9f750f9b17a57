package esm

import "sync/atomic"

// Stats counts what a mapping has done since New, named after Lambda's
// event source mapping metrics (the EventCount set) and function metrics.
// Counts include duplicates, as Lambda's do under at-least-once delivery.
type Stats struct {
	// PolledEventCount is records read from the stream.
	PolledEventCount int64
	// FilteredOutEventCount is records that matched no FilterCriteria
	// pattern and were finished without an invocation.
	FilteredOutEventCount int64
	// InvokedEventCount is records handed to the handler, counted again on
	// every retry. Throttled calls are not counted.
	InvokedEventCount int64
	// FailedInvokeEventCount is records of invocations that failed: a
	// function error, or, with ReportBatchItemFailures, a non-empty
	// batchItemFailures response.
	FailedInvokeEventCount int64
	// DroppedEventCount is records discarded by MaximumRetryAttempts or
	// MaximumRecordAge that did not reach an on-failure destination.
	DroppedEventCount int64
	// OnFailureDestinationDeliveredEventCount is discarded records whose
	// on-failure record was delivered.
	OnFailureDestinationDeliveredEventCount int64
	// DestinationDeliveryFailures is on-failure records that could not be
	// delivered.
	DestinationDeliveryFailures int64
	// Invocations is handler calls that reached the function, Errors those
	// that returned an error or panicked (function errors), Throttles calls
	// that returned a *ThrottleError, which count as neither.
	Invocations, Errors, Throttles int64
}

// counters is the live form of Stats; every field is updated atomically.
type counters struct {
	polled, filtered, invoked, failedInvoke, dropped, delivered, deliveryFailures atomic.Int64
	invocations, errors, throttles                                                atomic.Int64
}

// Stats returns a snapshot of the mapping's counters. It is safe to call at
// any time, concurrently with Run.
func (m *Mapping) Stats() Stats {
	c := &m.counters
	return Stats{
		PolledEventCount:                        c.polled.Load(),
		FilteredOutEventCount:                   c.filtered.Load(),
		InvokedEventCount:                       c.invoked.Load(),
		FailedInvokeEventCount:                  c.failedInvoke.Load(),
		DroppedEventCount:                       c.dropped.Load(),
		OnFailureDestinationDeliveredEventCount: c.delivered.Load(),
		DestinationDeliveryFailures:             c.deliveryFailures.Load(),
		Invocations:                             c.invocations.Load(),
		Errors:                                  c.errors.Load(),
		Throttles:                               c.throttles.Load(),
	}
}
