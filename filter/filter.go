package filter

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// ErrInvalidPattern is wrapped by every error Compile returns for a pattern
// that Lambda would reject when the mapping is created or updated.
var ErrInvalidPattern = errors.New("filter: invalid pattern")

// ErrInvalidOption is wrapped by the error Compile returns for an option
// value outside Lambda's range.
var ErrInvalidOption = errors.New("filter: invalid option")

// Limits from Lambda's quotas and the Filter API type.
const (
	// DefaultMaxPatterns is Lambda's default quota of filters per mapping.
	DefaultMaxPatterns = 5
	// MaxPatternsQuota is the largest quota Lambda grants on request.
	MaxPatternsQuota = 10
	// MaxPatternLength is the largest Pattern, in characters.
	MaxPatternLength = 4096
)

// PatternError describes why a pattern is invalid. It wraps
// ErrInvalidPattern.
type PatternError struct {
	// Index is the position of the pattern in the slice given to Compile.
	Index int
	// Path locates the offending field inside the pattern, for example
	// `data.price[0].numeric[2]`; it is empty for the pattern as a whole.
	Path string
	// Value is the offending JSON value, shortened to 80 bytes.
	Value string
	// Reason says what is wrong.
	Reason string
}

func (e *PatternError) Error() string {
	s := "filter: invalid pattern " + strconv.Itoa(e.Index)
	if e.Path != "" {
		s += " at " + e.Path
	}
	s += ": " + e.Reason
	if e.Value != "" {
		s += " (got " + e.Value + ")"
	}
	return s
}

// Unwrap returns ErrInvalidPattern.
func (e *PatternError) Unwrap() error { return ErrInvalidPattern }

// Option configures Compile.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	maxPatterns int
}

func defaultConfig() config {
	return config{maxPatterns: DefaultMaxPatterns}
}

func (c *config) validate() error {
	if c.maxPatterns < 1 || c.maxPatterns > MaxPatternsQuota {
		return fmt.Errorf("%w: MaxPatterns %d not in [1, %d]", ErrInvalidOption, c.maxPatterns, MaxPatternsQuota)
	}
	return nil
}

// MaxPatterns sets how many patterns Compile accepts: Lambda's "filters per
// event source mapping" quota. The default is 5; a quota increase allows up
// to 10, so n must be in [1, 10].
func MaxPatterns(n int) Option {
	return optionFunc(func(c *config) { c.maxPatterns = n })
}

// Record is the part of a Kinesis record that patterns test. A zero
// PartitionKey or SequenceNumber, or a zero ApproximateArrivalTimestamp, is
// treated as an absent field (Kinesis never sends one).
type Record struct {
	// PartitionKey is matched by the top-level pattern key "partitionKey".
	PartitionKey string
	// SequenceNumber is matched by "sequenceNumber" as a string.
	SequenceNumber string
	// ApproximateArrivalTimestamp is matched by "approximateArrivalTimestamp"
	// as a JSON number of Unix seconds with millisecond fraction, as in the
	// invocation event (1545084650.987).
	ApproximateArrivalTimestamp time.Time
	// Data is the record's payload, not base64-encoded. Patterns address it,
	// decoded as JSON, under the top-level key "data".
	Data []byte
}

// Filter is a compiled set of FilterCriteria patterns. A record matches the
// Filter if it matches at least one pattern. A Filter is immutable and safe
// for concurrent use. A nil *Filter, like one compiled from no patterns,
// matches every record: Lambda's behaviour without FilterCriteria.
type Filter struct {
	patterns []pattern
	conds    []cond
	nodes    []node // nodes[0] is the root of the record's data
	meta     [numMetaFields]int32
	usesData bool // some pattern has a "data" condition
	pool     sync.Pool
}

// Compile checks and compiles patterns, each a FilterCriteria Pattern string
// such as `{"data": {"type": ["buy"]}}`. It returns an error wrapping
// ErrInvalidPattern (a *PatternError) for the first invalid pattern, or one
// wrapping ErrInvalidOption for a bad option. Compiling no patterns yields a
// Filter that matches every record.
func Compile(patterns []string, opts ...Option) (*Filter, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o.apply(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if len(patterns) > cfg.maxPatterns {
		return nil, fmt.Errorf("%w: %d patterns, more than the quota of %d (MaxPatterns)",
			ErrInvalidPattern, len(patterns), cfg.maxPatterns)
	}
	f := &Filter{nodes: []node{{}}}
	for i := range f.meta {
		f.meta[i] = -1
	}
	for i, p := range patterns {
		if err := f.add(i, p); err != nil {
			return nil, err
		}
	}
	for i := range f.nodes {
		for _, ci := range f.nodes[i].conds {
			if f.conds[ci].numeric {
				f.nodes[i].numeric = true
			}
		}
	}
	nc, nn := len(f.conds), len(f.nodes)
	f.pool.New = func() any {
		return &state{sat: make([]uint64, (nc+63)/64), seen: make([]uint64, (nn+63)/64)}
	}
	return f, nil
}

// Len returns the number of patterns in f.
func (f *Filter) Len() int {
	if f == nil {
		return 0
	}
	return len(f.patterns)
}

// Match reports whether r matches at least one of f's patterns. It reads
// r.Data at most once, and only if some pattern has a "data" condition; data
// that is not valid UTF-8 JSON never matches such a pattern. Match does not
// retain r and is safe for concurrent use.
func (f *Filter) Match(r Record) bool {
	if f == nil || len(f.patterns) == 0 {
		return true
	}
	st := f.pool.Get().(*state)
	defer f.pool.Put(st)
	clear(st.sat)
	clear(st.seen)

	f.matchMeta(st, &r)
	for i := range f.patterns {
		p := &f.patterns[i]
		if p.usesData {
			// Data patterns go last so that a match on metadata alone saves
			// decoding the data.
			continue
		}
		if f.eval(st, &p.root) {
			return true
		}
	}
	if !f.usesData {
		return false
	}
	s := scanner{f: f, st: st, data: r.Data}
	if !s.document() {
		return false // not JSON: Lambda drops the record (spec 13.3)
	}
	for i := range f.patterns {
		p := &f.patterns[i]
		if p.usesData && f.eval(st, &p.root) {
			return true
		}
	}
	return false
}

// MatchEventRecord is Match for a record of a Lambda Kinesis event.
func (f *Filter) MatchEventRecord(r *events.KinesisEventRecord) bool {
	return f.Match(Record{
		PartitionKey:                r.Kinesis.PartitionKey,
		SequenceNumber:              r.Kinesis.SequenceNumber,
		ApproximateArrivalTimestamp: r.Kinesis.ApproximateArrivalTimestamp.Time,
		Data:                        r.Kinesis.Data,
	})
}

// state is the per-call scratch space, pooled so that Match does not
// allocate.
type state struct {
	sat  []uint64 // bit i: some value satisfied a matcher of conds[i]
	seen []uint64 // bit i: a leaf (non-object, non-array) value was at nodes[i]
	buf  []byte   // unescaped strings and formatted metadata
}

func setBit(b []uint64, i int32)      { b[i>>6] |= 1 << (uint(i) & 63) }
func getBit(b []uint64, i int32) bool { return b[i>>6]&(1<<(uint(i)&63)) != 0 }

func (f *Filter) matchMeta(st *state, r *Record) {
	if n := f.meta[metaPartitionKey]; n >= 0 && r.PartitionKey != "" {
		st.buf = append(st.buf[:0], r.PartitionKey...)
		f.leaf(st, n, value{kind: kindString, raw: st.buf})
	}
	if n := f.meta[metaSequenceNumber]; n >= 0 && r.SequenceNumber != "" {
		st.buf = append(st.buf[:0], r.SequenceNumber...)
		f.leaf(st, n, value{kind: kindString, raw: st.buf})
	}
	if n := f.meta[metaArrival]; n >= 0 && !r.ApproximateArrivalTimestamp.IsZero() {
		secs := float64(r.ApproximateArrivalTimestamp.UnixMilli()) / 1000
		st.buf = strconv.AppendFloat(st.buf[:0], secs, 'f', -1, 64)
		f.leaf(st, n, value{kind: kindNumber, raw: st.buf})
	}
}

// leaf records one scalar value v found at nodes[n]: every condition there
// that v satisfies is marked.
func (f *Filter) leaf(st *state, n int32, v value) {
	setBit(st.seen, n)
	nd := &f.nodes[n]
	if nd.numeric {
		v.parseNumber()
	}
	for _, ci := range nd.conds {
		if getBit(st.sat, ci) {
			continue
		}
		c := &f.conds[ci]
		for i := range c.matchers {
			if c.matchers[i].match(&v) {
				setBit(st.sat, ci)
				break
			}
		}
	}
}

func (f *Filter) eval(st *state, e *expr) bool {
	for _, ci := range e.conds {
		c := &f.conds[ci]
		ok := getBit(st.sat, ci)
		if !ok && (c.existsTrue || c.existsFalse) {
			seen := getBit(st.seen, c.node)
			ok = c.existsTrue && seen || c.existsFalse && !seen
		}
		if !ok {
			return false
		}
	}
	for _, group := range e.ors {
		ok := false
		for i := range group {
			if f.eval(st, &group[i]) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// Numbers in numeric and anything-but comparisons follow event-ruler: they
// must lie in [-5e9, 5e9] and compare to six decimal places.
const numLimit = 5e9

// quantize maps f to the integer event-ruler compares, or false if f is out
// of range.
func quantize(f float64) (int64, bool) {
	if math.IsNaN(f) || f < -numLimit || f > numLimit {
		return 0, false
	}
	return int64(1e6 * (numLimit + f)), true
}
