package esm

import (
	"slices"
	"strings"
	"sync"
	"time"
)

// ShardStatus is a snapshot of one shard being processed.
type ShardStatus struct {
	ShardID string
	// Checkpoint is the sequence number of the last finished record
	// checkpointed, or "" if none yet.
	Checkpoint string
	// IteratorAge is the time from the arrival of the last record handed to
	// the handler until that call started.
	IteratorAge time.Duration
	// MillisBehindLatest is what the last read of the shard reported.
	MillisBehindLatest int64
	// Lanes is the number of lanes (ParallelizationFactor) and InFlight how
	// many of them are invoking the handler now.
	Lanes, InFlight int
	// Pending is records read but not yet finished.
	Pending int
	// Errors counts failed invocations of this shard.
	Errors int64
}

// status is a processor's published state; mu protects every field.
type status struct {
	mu           sync.Mutex
	checkpoint   string
	iteratorAge  time.Duration
	millisBehind int64
	inFlight     int
	pending      int
	errors       int64
}

// Shards returns a snapshot of every shard being processed now, ordered by
// shard ID. It is safe to call at any time, concurrently with Run.
func (m *Mapping) Shards() []ShardStatus {
	m.mu.Lock()
	procs := make([]*processor, 0, len(m.procs))
	for p := range m.procs {
		procs = append(procs, p)
	}
	m.mu.Unlock()
	out := make([]ShardStatus, 0, len(procs))
	for _, p := range procs {
		st := &p.status
		st.mu.Lock()
		out = append(out, ShardStatus{
			ShardID:            p.shardID,
			Checkpoint:         st.checkpoint,
			IteratorAge:        st.iteratorAge,
			MillisBehindLatest: st.millisBehind,
			Lanes:              len(p.lanes),
			InFlight:           st.inFlight,
			Pending:            st.pending,
			Errors:             st.errors,
		})
		st.mu.Unlock()
	}
	slices.SortFunc(out, func(a, b ShardStatus) int { return strings.Compare(a.ShardID, b.ShardID) })
	return out
}

func (m *Mapping) track(p *processor) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.procs[p] = struct{}{}
}

func (m *Mapping) untrack(p *processor) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.procs, p)
}
