package esm

import (
	"context"
	"encoding/json"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/esmkit/esmkit/internal/backoff"
	"github.com/esmkit/esmkit/window"
)

// restoreWindows gives every lane a tumbling-window tracker, resuming the
// ones stored with the checkpoint: a JSON array with one tracker per lane.
// A stored array for another lane count is dropped, since partition keys
// then map to other lanes.
func (p *processor) restoreWindows(state []byte) {
	cfg := window.DefaultConfig(p.m.cfg.windowSize)
	cfg.LateWait = p.m.cfg.windowLateWait
	var stored []json.RawMessage
	if len(state) > 0 {
		if err := json.Unmarshal(state, &stored); err != nil || len(stored) != len(p.lanes) {
			p.log.LogAttrs(context.Background(), slog.LevelWarn, "window.state_dropped",
				slog.Int("lanes", len(p.lanes)), slog.Int("stored", len(stored)))
			stored = nil
		}
	}
	p.states = make([]json.RawMessage, len(p.lanes))
	for i, l := range p.lanes {
		tr, err := window.NewTracker(cfg, p.shardID, p.m.stream.ARN)
		if err != nil {
			// validate has checked the window settings; a failure is a bug.
			panic(err)
		}
		if stored != nil {
			if err := tr.UnmarshalBinary(stored[i]); err != nil {
				p.log.LogAttrs(context.Background(), slog.LevelWarn, "window.state_dropped",
					slog.Int("lane", i), slog.String("error", err.Error()))
				tr, _ = window.NewTracker(cfg, p.shardID, p.m.stream.ARN)
			} else {
				p.states[i] = stored[i]
			}
		}
		l.tracker = tr
	}
}

// encodeWindows returns the lanes' trackers for the checkpoint.
func (p *processor) encodeWindows() []byte {
	out := make([]json.RawMessage, len(p.states))
	for i, s := range p.states {
		if s == nil {
			s = json.RawMessage("null")
		}
		out[i] = s
	}
	b, _ := json.Marshal(out) // raw messages from MarshalBinary: cannot fail
	return b
}

// laneState returns lane id's tracker, serialised. The lane goroutine calls
// it while it owns the tracker.
func (p *processor) laneState(id int) json.RawMessage {
	b, err := p.lanes[id].tracker.MarshalBinary()
	if err != nil {
		panic(err) // a tracker always marshals
	}
	return b
}

// windowJob decides what idle lane l does next with tumbling windows: a
// batch that never spans two windows, or the final invocation of the open
// window once a later record arrived, the late wait passed, or the shard
// ended.
func (p *processor) windowJob(l *lane, now time.Time, flush, endSeen bool) (job, bool) {
	tr := l.tracker
	if n := l.batch.Len(); n > 0 {
		take, closeFirst := tr.Cut(n, func(i int) time.Time {
			return l.batch.At(i).Kinesis.ApproximateArrivalTimestamp.Time
		})
		switch {
		case closeFirst:
			return job{final: true}, true
		case take < n:
			// The window ends inside the pending records: no more of this
			// window is coming, so go at once.
			return job{recs: l.batch.TakeN(now, take)}, true
		case flush || l.batch.Ready(now):
			return job{recs: l.batch.Take(now)}, true
		}
		return job{}, false
	}
	if _, open := tr.Current(); open && (endSeen || tr.Final(now)) {
		return job{final: true}, true
	}
	return job{}, false
}

// windowsClosed reports whether every lane's window is closed, as it must
// be before a shard's end is recorded: children start with fresh windows.
func (p *processor) windowsClosed() bool {
	for _, l := range p.lanes {
		if l.tracker == nil {
			return true
		}
		if _, open := l.tracker.Current(); open {
			return false
		}
	}
	return true
}

// invokeWindow calls the window handler with ev and applies its state to
// tr: a response without a state fails the invocation, as in Lambda.
func (p *processor) invokeWindow(ctx context.Context, tr *window.Tracker, ev window.Event) (events.KinesisEventResponse, error) {
	if t := p.m.cfg.functionTimeout; t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	resp, err := callWindow(ctx, p.m.windowHandler, ev)
	if err == nil {
		err = tr.Succeeded(resp.State)
	}
	if err != nil {
		tr.Failed()
	}
	return resp.KinesisEventResponse(), err
}

// callWindow runs h, turning a panic into a *HandlerPanicError.
func callWindow(ctx context.Context, h window.Handler, ev window.Event) (resp window.Response, err error) {
	defer func() {
		if v := recover(); v != nil {
			resp, err = window.Response{}, &HandlerPanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return h(ctx, ev)
}

// finalWindow makes the final invocation of lane id's window until it
// succeeds, with the retry backoff. Once MaximumRetryAttempts retries have
// failed the window is given up without a successful final invocation.
// When ctx ends first the window stays open: it is stored with the
// checkpoint and finished after a restart.
func (p *processor) finalWindow(ctx, invokeCtx context.Context, id int, prog chan<- progress) {
	tr := p.lanes[id].tracker
	pol := p.m.cfg.policy
	bo := backoff.Backoff{Initial: pol.RetryBackoff.Initial, Max: pol.RetryBackoff.Max}
	for attempt := 0; ; attempt++ {
		if ctx.Err() != nil {
			return
		}
		ev := tr.Next(nil)
		began := time.Now()
		_, err := p.invokeWindow(invokeCtx, tr, ev)
		p.finalInvoked(id, attempt, time.Since(began), err)
		if err == nil {
			prog <- progress{lane: id, state: p.laneState(id)}
			return
		}
		p.log.LogAttrs(ctx, slog.LevelWarn, "window.final_failed",
			slog.Time("window_start", ev.Window.Start), slog.Int("attempt", attempt), slog.String("error", err.Error()))
		if n := pol.MaximumRetryAttempts; n >= 0 && attempt >= n {
			tr.Abandon()
			p.log.LogAttrs(ctx, slog.LevelError, "window.final_abandoned", slog.Time("window_start", ev.Window.Start))
			prog <- progress{lane: id, state: p.laneState(id)}
			return
		}
		if backoff.Sleep(ctx, bo.Next()) != nil {
			return
		}
	}
}

// finalInvoked counts and publishes a final window invocation.
func (p *processor) finalInvoked(lane, attempt int, took time.Duration, err error) {
	c := &p.m.counters
	c.invocations.Add(1)
	if err != nil {
		c.errors.Add(1)
		p.m.lastResult.Store(2)
		p.status.mu.Lock()
		p.status.errors++
		p.status.mu.Unlock()
	} else {
		p.m.lastResult.Store(1)
	}
	for _, h := range p.m.hooks.batch {
		h.OnBatch(BatchEvent{ShardID: p.shardID, Lane: lane, Attempt: attempt, Duration: took, Err: err})
	}
}
