package esm

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/esmkit/esmkit/checkpoint"
	"github.com/esmkit/esmkit/destination"
	"github.com/esmkit/esmkit/filter"
	"github.com/esmkit/esmkit/retry"
	"github.com/esmkit/esmkit/window"
)

// ErrInvalidOption is wrapped by every error New returns for a bad option.
var ErrInvalidOption = errors.New("esm: invalid option")

// Position is where a mapping starts reading a shard that has no checkpoint
// (Lambda's StartingPosition).
type Position string

// The starting positions Lambda accepts for Kinesis.
const (
	// TrimHorizon starts at the oldest record still in the shard.
	TrimHorizon Position = "TRIM_HORIZON"
	// Latest starts just after the newest record when reading begins.
	Latest Position = "LATEST"
	// AtTimestamp starts at the first record that arrived at or after
	// StartingPositionTimestamp.
	AtTimestamp Position = "AT_TIMESTAMP"
)

// Lambda's limits, and esmkit's own for settings Lambda does not have.
const (
	MaxBatchSize             = 10000
	MaxParallelizationFactor = 10
	MaxRetryAttempts         = 10000
	MinRecordAge             = 60 * time.Second
	MaxRecordAge             = 604800 * time.Second
	MaxBatchingWindow        = 300 * time.Second
	MinPollInterval          = 200 * time.Millisecond
	MaxPollInterval          = 5 * time.Minute
	MinShardRefresh          = time.Second
	MaxShardRefresh          = time.Hour
	DefaultBatchSize         = 100
	DefaultPollInterval      = time.Second
	DefaultShardRefresh      = 30 * time.Second
	DefaultShutdown          = 30 * time.Second
	DefaultReadRateLimit     = 5
)

// An Option configures a Mapping. Options are applied in order by New.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	batchSize         int
	parallelization   int
	batchingWindow    time.Duration
	startingPosition  Position
	startingTimestamp time.Time
	timestampSet      bool
	store             *checkpoint.Store
	logger            *slog.Logger
	pollInterval      time.Duration
	shardRefresh      time.Duration
	shutdownTimeout   time.Duration
	functionTimeout   time.Duration
	invokeIdentityARN string
	name              string
	readRateLimit     int
	streamByName      bool
	policy            retry.Policy
	filterPatterns    []string
	responseTypes     []string
	onFailure         *destination.Destination
	enabled           bool
	windowSize        time.Duration
	fastDecode        bool
	windowLateWait    time.Duration
	hooks             []Hook
	functionARN       string
	maxFilters        int
}

func defaultConfig() config {
	return config{
		batchSize:       DefaultBatchSize,
		parallelization: 1,
		enabled:         true,
		windowLateWait:  window.DefaultLateWait,
		pollInterval:    DefaultPollInterval,
		shardRefresh:    DefaultShardRefresh,
		shutdownTimeout: DefaultShutdown,
		readRateLimit:   DefaultReadRateLimit,
		maxFilters:      filter.DefaultMaxPatterns,
		policy:          retry.DefaultPolicy(),
		fastDecode:      true,
	}
}

func (c *config) validate(now time.Time) error {
	if c.batchSize < 1 || c.batchSize > MaxBatchSize {
		return fmt.Errorf("%w: BatchSize %d not in [1, %d]", ErrInvalidOption, c.batchSize, MaxBatchSize)
	}
	if c.parallelization < 1 || c.parallelization > MaxParallelizationFactor {
		return fmt.Errorf("%w: ParallelizationFactor %d not in [1, %d]", ErrInvalidOption, c.parallelization, MaxParallelizationFactor)
	}
	if c.batchingWindow < 0 || c.batchingWindow > MaxBatchingWindow {
		return fmt.Errorf("%w: MaximumBatchingWindow %v not in [0s, %v]", ErrInvalidOption, c.batchingWindow, MaxBatchingWindow)
	}
	switch len(c.responseTypes) {
	case 0:
	case 1:
		if c.responseTypes[0] != ReportBatchItemFailuresType {
			return fmt.Errorf("%w: FunctionResponseTypes value %q is not %q", ErrInvalidOption, c.responseTypes[0], ReportBatchItemFailuresType)
		}
		c.policy.ReportBatchItemFailures = true
	default:
		return fmt.Errorf("%w: FunctionResponseTypes has %d values %q, want at most 1", ErrInvalidOption, len(c.responseTypes), c.responseTypes)
	}
	switch c.startingPosition {
	case "":
		return fmt.Errorf("%w: StartingPosition is required: one of TRIM_HORIZON, LATEST, AT_TIMESTAMP", ErrInvalidOption)
	case TrimHorizon, Latest:
		if c.timestampSet {
			return fmt.Errorf("%w: StartingPositionTimestamp is set but StartingPosition is %s; it is only valid with AT_TIMESTAMP", ErrInvalidOption, c.startingPosition)
		}
	case AtTimestamp:
		if !c.timestampSet {
			return fmt.Errorf("%w: StartingPosition AT_TIMESTAMP needs StartingPositionTimestamp", ErrInvalidOption)
		}
		if c.startingTimestamp.After(now) {
			return fmt.Errorf("%w: StartingPositionTimestamp %s is in the future", ErrInvalidOption, c.startingTimestamp.UTC().Format(time.RFC3339))
		}
	default:
		return fmt.Errorf("%w: StartingPosition %q not one of TRIM_HORIZON, LATEST, AT_TIMESTAMP", ErrInvalidOption, string(c.startingPosition))
	}
	if c.pollInterval < MinPollInterval || c.pollInterval > MaxPollInterval {
		return fmt.Errorf("%w: PollInterval %v not in [%v, %v]", ErrInvalidOption, c.pollInterval, MinPollInterval, MaxPollInterval)
	}
	if c.shardRefresh < MinShardRefresh || c.shardRefresh > MaxShardRefresh {
		return fmt.Errorf("%w: ShardRefreshInterval %v not in [%v, %v]", ErrInvalidOption, c.shardRefresh, MinShardRefresh, MaxShardRefresh)
	}
	if c.shutdownTimeout < 0 {
		return fmt.Errorf("%w: ShutdownTimeout %v is negative", ErrInvalidOption, c.shutdownTimeout)
	}
	if c.functionTimeout < 0 {
		return fmt.Errorf("%w: FunctionTimeout %v is negative", ErrInvalidOption, c.functionTimeout)
	}
	if c.readRateLimit < 0 {
		return fmt.Errorf("%w: ReadRateLimit %d is negative", ErrInvalidOption, c.readRateLimit)
	}
	if w := c.windowSize; w != 0 && (w < window.MinSize || w > window.MaxSize || w%time.Second != 0) {
		return fmt.Errorf("%w: TumblingWindow %v not 0 or whole seconds in [%v, %v]", ErrInvalidOption, w, window.MinSize, window.MaxSize)
	}
	if c.windowLateWait < 0 {
		return fmt.Errorf("%w: TumblingWindowLateWait %v is negative", ErrInvalidOption, c.windowLateWait)
	}
	if c.maxFilters < 1 || c.maxFilters > filter.MaxPatternsQuota {
		return fmt.Errorf("%w: MaxFilters %d not in [1, %d]", ErrInvalidOption, c.maxFilters, filter.MaxPatternsQuota)
	}
	if b := c.policy.RetryBackoff; b.Initial <= 0 || b.Max < b.Initial {
		return fmt.Errorf("%w: RetryBackoff [%v, %v] needs 0 < initial <= max", ErrInvalidOption, b.Initial, b.Max)
	}
	if n := c.policy.MaximumRetryAttempts; n < -1 || n > MaxRetryAttempts {
		return fmt.Errorf("%w: MaximumRetryAttempts %d not in [-1, %d]", ErrInvalidOption, n, MaxRetryAttempts)
	}
	if a := c.policy.MaximumRecordAge; a >= 0 && (a < MinRecordAge || a > MaxRecordAge) {
		return fmt.Errorf("%w: MaximumRecordAge %v not -1 (infinite) or in [%v, %v]", ErrInvalidOption, a, MinRecordAge, MaxRecordAge)
	}
	if err := c.policy.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidOption, err)
	}
	return nil
}

// BatchSize sets the most records in one invocation (Lambda's BatchSize).
// Range 1–10,000; default 100. The 6 MB invoke payload limit may close a
// batch earlier.
func BatchSize(n int) Option { return optionFunc(func(c *config) { c.batchSize = n }) }

// ParallelizationFactor sets how many batches of one shard may be in flight
// at once (Lambda's ParallelizationFactor). Range 1–10; default 1. Records
// go to one of n lanes by a hash of their partition key, so each key's
// records are still delivered in order; the checkpoint only passes records
// that every lane has finished.
func ParallelizationFactor(n int) Option {
	return optionFunc(func(c *config) { c.parallelization = n })
}

// MaximumBatchingWindow sets how long to gather records before invoking
// (Lambda's MaximumBatchingWindowInSeconds). Range 0–300 s; default 0,
// which invokes as soon as records are read. Unlike Lambda, fractions of a
// second are allowed.
func MaximumBatchingWindow(d time.Duration) Option {
	return optionFunc(func(c *config) { c.batchingWindow = d })
}

// StartingPosition sets where reading starts in a shard with no checkpoint
// (Lambda's StartingPosition). Required, as in Lambda.
func StartingPosition(p Position) Option {
	return optionFunc(func(c *config) { c.startingPosition = p })
}

// StartingPositionTimestamp sets the time to start at with [AtTimestamp]
// (Lambda's StartingPositionTimestamp). It must not be in the future.
func StartingPositionTimestamp(t time.Time) Option {
	return optionFunc(func(c *config) { c.startingTimestamp, c.timestampSet = t, true })
}

// CheckpointStore sets where shard positions are kept. Default: a new
// in-memory store, private to the mapping, so a restarted process starts
// again from StartingPosition. The mapping flushes the store it is given
// when Run returns but does not close it, so it can be reused.
func CheckpointStore(s *checkpoint.Store) Option {
	return optionFunc(func(c *config) { c.store = s })
}

// Logger sets the logger for lifecycle events and retried errors. Default:
// no output. Record data is never logged.
func Logger(l *slog.Logger) Option { return optionFunc(func(c *config) { c.logger = l }) }

// PollInterval sets how long a caught-up shard waits between GetRecords
// calls. Range 200 ms–5 min; default 1 s, as Lambda polls. A shard that is
// behind is polled again at once, within ReadRateLimit.
func PollInterval(d time.Duration) Option {
	return optionFunc(func(c *config) { c.pollInterval = d })
}

// ShardRefreshInterval sets how often ListShards looks for new shards.
// Shards are also listed again whenever one ends. Range 1 s–1 h; default 30 s.
func ShardRefreshInterval(d time.Duration) Option {
	return optionFunc(func(c *config) { c.shardRefresh = d })
}

// ShutdownTimeout bounds how long Run, once its context is cancelled, lets
// in-flight invocations finish before cancelling their context. Default 30 s;
// 0 cancels them at once. Unfinished batches are not checkpointed and are
// delivered again on the next Run.
func ShutdownTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.shutdownTimeout = d })
}

// FunctionTimeout sets a deadline on each invocation's context, as a Lambda
// function's timeout does; a handler that overruns it should return its
// context's error, which is a function error. Default 0: no deadline.
func FunctionTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.functionTimeout = d })
}

// InvokeIdentityARN sets the invokeIdentityArn of every record (in Lambda,
// the function's execution role). Default empty.
func InvokeIdentityARN(arn string) Option {
	return optionFunc(func(c *config) { c.invokeIdentityARN = arn })
}

// Name sets the mapping's identity in the checkpoint store (Lambda's mapping
// UUID). Mappings that share a store and a stream need different names.
// Default: the stream ARN.
func Name(name string) Option { return optionFunc(func(c *config) { c.name = name }) }

// ReadRateLimit caps GetRecords calls per second per shard. Default 5,
// Kinesis's own limit for shared-throughput consumers; 0 removes the cap,
// which is useful against in-memory fakes.
func ReadRateLimit(perSecond int) Option {
	return optionFunc(func(c *config) { c.readRateLimit = perSecond })
}

// AddressStreamByName makes Kinesis calls name the stream by StreamName
// instead of StreamARN. Some Kinesis-compatible servers accept only the
// name; cross-account streams need the ARN. Default false.
func AddressStreamByName(byName bool) Option {
	return optionFunc(func(c *config) { c.streamByName = byName })
}

// RetryBackoff bounds the jittered exponential wait before a batch that
// failed is invoked again. Defaults 100 ms and 5 s. (Throttled batches wait
// 1 s doubling to 30 s.)
func RetryBackoff(initial, maximum time.Duration) Option {
	return optionFunc(func(c *config) { c.policy.RetryBackoff = retry.Backoff{Initial: initial, Max: maximum} })
}

// MaximumRetryAttempts sets how many times a failed batch is retried before
// its records are discarded to the OnFailure destination (Lambda's
// MaximumRetryAttempts). Range -1–10,000; default -1, which retries until
// the records expire; 0 discards after the first failure. Splits by
// BisectBatchOnFunctionError and throttles do not count.
func MaximumRetryAttempts(n int) Option {
	return optionFunc(func(c *config) { c.policy.MaximumRetryAttempts = n })
}

// MaximumRecordAge sets the age (now minus the record's arrival in the
// stream) beyond which a record is discarded instead of invoked (Lambda's
// MaximumRecordAgeInSeconds). A negative value, such as -1, is infinite,
// the default; otherwise 60 s–604,800 s (7 days).
func MaximumRecordAge(d time.Duration) Option {
	return optionFunc(func(c *config) { c.policy.MaximumRecordAge = d })
}

// BisectBatchOnFunctionError splits a batch that failed with a function
// error in two and retries each half, left before right, to isolate bad
// records (Lambda's BisectBatchOnFunctionError). Splitting does not use up
// retry attempts. Default false.
func BisectBatchOnFunctionError(on bool) Option {
	return optionFunc(func(c *config) { c.policy.BisectBatchOnFunctionError = on })
}

// ReportBatchItemFailuresType is the one FunctionResponseTypes value Lambda
// accepts for Kinesis.
const ReportBatchItemFailuresType = "ReportBatchItemFailures"

// FunctionResponseTypes enables partial batch responses (Lambda's
// FunctionResponseTypes): with ReportBatchItemFailuresType, the handler's
// BatchItemFailures name the records that failed; records before the lowest
// one are finished and the retry starts there. Zero or one value; default
// none, which ignores BatchItemFailures as Lambda does.
func FunctionResponseTypes(types ...string) Option {
	return optionFunc(func(c *config) { c.responseTypes = append([]string(nil), types...) })
}

// FilterCriteria sets Lambda's event filtering: a record is delivered only if
// it matches at least one pattern, and is otherwise finished without an
// invocation (the checkpoint passes it). Each pattern is an EventBridge
// pattern as a JSON string of at most 4,096 characters, e.g.
// {"data":{"type":["order"]}}, where data is the record's data decoded as
// JSON; records whose data is not JSON never match a data pattern. At most
// 5 patterns, or MaxFilters. Default: no filtering. Patterns are compiled by
// New, which rejects invalid ones with the pattern's index and the path of
// the offending field.
//
// Beyond Lambda, which filters Kinesis records on data only, patterns may
// also test partitionKey, sequenceNumber and approximateArrivalTimestamp.
func FilterCriteria(patterns ...string) Option {
	return optionFunc(func(c *config) { c.filterPatterns = append([]string(nil), patterns...) })
}

// MaxFilters raises the number of FilterCriteria patterns allowed, as
// Lambda's quota increase does. Range 1–10; default 5.
func MaxFilters(n int) Option { return optionFunc(func(c *config) { c.maxFilters = n }) }

// OnFailure sets where records discarded by MaximumRetryAttempts or
// MaximumRecordAge are reported (Lambda's DestinationConfig.OnFailure): one
// invocation record per discarded range, Lambda's document exactly, with the
// record data only for S3. Default: none; discarded records are dropped and
// counted in DroppedEventCount. A delivery that still fails after the
// Destination's own retries is logged and counted in
// DestinationDeliveryFailures and DroppedEventCount, and the shard goes on,
// as Lambda's does. The mapping does not close d.
func OnFailure(d *destination.Destination) Option {
	return optionFunc(func(c *config) { c.onFailure = d })
}

// FunctionARN sets the function ARN written in on-failure records
// (requestContext.functionArn), for handlers that stand in for a Lambda
// function. Default empty.
func FunctionARN(arn string) Option {
	return optionFunc(func(c *config) { c.functionARN = arn })
}

// Enabled sets whether Run starts processing at once (Lambda's Enabled).
// Default true; with false, Run waits in StateDisabled until Enable.
func Enabled(on bool) Option { return optionFunc(func(c *config) { c.enabled = on }) }

// Hooks adds observers of the mapping's work; see Hook. Default none.
func Hooks(hooks ...Hook) Option {
	return optionFunc(func(c *config) { c.hooks = append(c.hooks, hooks...) })
}

// TumblingWindow sets the length of tumbling windows (Lambda's
// TumblingWindowInSeconds): 1 s–900 s in whole seconds, or 0 (the default)
// for none. Windows need a window.Handler, so use NewWindowed. State is
// kept per shard, or per lane with ParallelizationFactor > 1, and is stored
// with the checkpoint, so a restarted mapping resumes an open window instead
// of losing it (Lambda keeps it only in memory).
func TumblingWindow(d time.Duration) Option {
	return optionFunc(func(c *config) { c.windowSize = d })
}

// TumblingWindowLateWait sets how long after a window's end the mapping
// waits for late records before the window's final invocation when no newer
// record arrives. Default 2 minutes, as Lambda waits.
func TumblingWindowLateWait(d time.Duration) Option {
	return optionFunc(func(c *config) { c.windowLateWait = d })
}

// FastDecode chooses how GetRecords responses are decoded when polling
// with an *kinesis.Client. On (the default), kinesisfast decodes them:
// about 2.5× the records per second of the SDK's decoder end to end on
// 1 KiB records and almost no allocation per record, with the SDK's own
// errors, and the SDK's decoder for anything unusual. The records of a page
// then share memory: a record a handler keeps holds its 32 KiB block of
// Data and its page's strings (see package kinesisfast). Off, the SDK's
// decoder runs. Fakes and enhanced fan-out ignore it.
func FastDecode(on bool) Option { return optionFunc(func(c *config) { c.fastDecode = on }) }
