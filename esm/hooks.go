package esm

import "time"

// A Hook observes a mapping. It is any value implementing one or more of the
// hook interfaces below (BatchHook, PollHook, DiscardHook, CheckpointHook,
// StateHook), checked by type assertion when the mapping is built, as
// franz-go's hooks are. Hooks are called synchronously on the goroutine
// doing the work, possibly concurrently for different shards: they must be
// fast, must not block and must be safe for concurrent use. Record data is
// never passed to a hook.
type Hook any

// BatchHook is told about every call of the handler.
type BatchHook interface {
	OnBatch(BatchEvent)
}

// BatchEvent describes one handler call.
type BatchEvent struct {
	ShardID string
	Lane    int
	// Records is the number of records in the call.
	Records int
	// FirstSequenceNumber and LastSequenceNumber bound the call's records.
	FirstSequenceNumber, LastSequenceNumber string
	// Attempt is 0 for a range's first call and counts retries.
	Attempt int
	// Duration is how long the handler ran.
	Duration time.Duration
	// IteratorAge is the time from the last record's arrival in the stream
	// to the start of the call (Lambda's IteratorAge metric).
	IteratorAge time.Duration
	// Err is the function error, nil on success or partial failure.
	Err error
	// Throttled reports a *ThrottleError: the batch never reached the
	// function.
	Throttled bool
	// ItemFailures is the number of batchItemFailures the response listed
	// (with ReportBatchItemFailures on).
	ItemFailures int
}

// PollHook is told about every page of records read from Kinesis.
type PollHook interface {
	OnPoll(PollEvent)
}

// PollEvent describes one page read from a shard.
type PollEvent struct {
	ShardID string
	// Records is how many records the page held; Filtered how many of them
	// matched no FilterCriteria pattern.
	Records, Filtered int
	// MillisBehindLatest is how far the page was from the tip of the shard.
	MillisBehindLatest int64
}

// DiscardHook is told about every range of records given up by
// MaximumRetryAttempts or MaximumRecordAge.
type DiscardHook interface {
	OnDiscard(DiscardEvent)
}

// DiscardEvent describes one discarded range.
type DiscardEvent struct {
	ShardID string
	Records int
	// Condition is RetryAttemptsExhausted or RecordAgeExceeded.
	Condition string
	// Delivered reports that the on-failure destination took the record;
	// DeliveryErr is why it did not, when one is configured.
	Delivered   bool
	DeliveryErr error
}

// CheckpointHook is told about every checkpoint write.
type CheckpointHook interface {
	OnCheckpoint(CheckpointEvent)
}

// CheckpointEvent describes one checkpoint write.
type CheckpointEvent struct {
	ShardID        string
	SequenceNumber string
	ShardEnded     bool
	Err            error
}

// StateHook is told about every state change of the mapping.
type StateHook interface {
	OnStateChange(from, to State)
}

// hookSet is a mapping's hooks sorted by interface once, so the hot path
// does no type assertions.
type hookSet struct {
	batch   []BatchHook
	poll    []PollHook
	discard []DiscardHook
	ckpt    []CheckpointHook
	state   []StateHook
}

func newHookSet(hooks []Hook) hookSet {
	var hs hookSet
	for _, h := range hooks {
		if x, ok := h.(BatchHook); ok {
			hs.batch = append(hs.batch, x)
		}
		if x, ok := h.(PollHook); ok {
			hs.poll = append(hs.poll, x)
		}
		if x, ok := h.(DiscardHook); ok {
			hs.discard = append(hs.discard, x)
		}
		if x, ok := h.(CheckpointHook); ok {
			hs.ckpt = append(hs.ckpt, x)
		}
		if x, ok := h.(StateHook); ok {
			hs.state = append(hs.state, x)
		}
	}
	return hs
}
