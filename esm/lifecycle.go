package esm

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/esmkit/esmkit/filter"
)

// State is a mapping's lifecycle state, with Lambda's names.
type State string

// The states of a Mapping. New returns a Creating mapping; Run moves it to
// Enabled (or Disabled with Enabled(false)); Disable, Enable and Update pass
// through Disabling, Enabling and Updating; when Run's context ends it is
// Deleting until Run returns, and stays so.
const (
	StateCreating  State = "Creating"
	StateEnabling  State = "Enabling"
	StateEnabled   State = "Enabled"
	StateDisabling State = "Disabling"
	StateDisabled  State = "Disabled"
	StateUpdating  State = "Updating"
	StateDeleting  State = "Deleting"
)

// ReasonUser is the StateTransitionReason of changes made through the API
// (New, Run, Enable, Disable, Update), as Lambda reports USER_INITIATED.
const ReasonUser = "USER_INITIATED"

// Lambda's LastProcessingResult values.
const (
	ResultNoRecords     = "No records processed"
	ResultOK            = "OK"
	ResultFunctionError = "PROBLEM: Function call failed"
)

type cmdKind int

const (
	cmdEnable cmdKind = iota
	cmdDisable
	cmdUpdate
)

// command asks the coordinator to change the running mapping.
type command struct {
	kind   cmdKind
	update *update
	reply  chan error
}

// update is a validated new configuration.
type update struct {
	cfg    config
	filter *filter.Filter
}

// State returns the mapping's current state. It is safe for concurrent use.
func (m *Mapping) State() State {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state
}

// StateTransitionReason says who made the last state change: ReasonUser.
func (m *Mapping) StateTransitionReason() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reason
}

// LastProcessingResult is the result of the last invocation as Lambda
// reports it: ResultNoRecords until the first, then ResultOK or
// ResultFunctionError.
func (m *Mapping) LastProcessingResult() string {
	switch m.lastResult.Load() {
	case 1:
		return ResultOK
	case 2:
		return ResultFunctionError
	}
	return ResultNoRecords
}

// Disable stops reading and invoking, keeping every shard's position, as
// setting Enabled to false does in Lambda. Records already read are
// invoked first (within ShutdownTimeout) so that Enable resumes exactly
// after them, without repeating any. It blocks until the mapping is
// Disabled or ctx is done. Before Run it makes Run start Disabled; after
// Run it returns ErrMappingClosed.
func (m *Mapping) Disable(ctx context.Context) error {
	return m.command(ctx, command{kind: cmdDisable})
}

// Enable resumes a disabled mapping from its checkpoints, not from
// StartingPosition. It blocks until the mapping is Enabled or ctx is done.
func (m *Mapping) Enable(ctx context.Context) error {
	return m.command(ctx, command{kind: cmdEnable})
}

// Update changes the mapping's options while it runs, with the same
// validation as New; an invalid option changes nothing. Processing pauses
// as for Disable (records already read are finished first), the new
// options take effect, and every shard resumes from its checkpoint, so no
// record is lost or repeated. The client, stream, handler, Name and
// CheckpointStore cannot change. It blocks until the mapping is back in
// its previous state or ctx is done.
func (m *Mapping) Update(ctx context.Context, opts ...Option) error {
	m.mu.Lock()
	cfg := m.cfg
	m.mu.Unlock()
	orig := cfg
	cfg.filterPatterns = slices.Clone(cfg.filterPatterns)
	cfg.responseTypes = slices.Clone(cfg.responseTypes)
	// Lambda's validation applies to the new values as a whole; a change of
	// StartingPosition is pointless but harmless, so the timestamp check
	// is against now as in New.
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	if err := cfg.validate(time.Now()); err != nil {
		return err
	}
	if cfg.name != orig.name {
		return fmt.Errorf("%w: Name cannot be changed by Update", ErrInvalidOption)
	}
	if (cfg.windowSize == 0) != (orig.windowSize == 0) {
		return fmt.Errorf("%w: TumblingWindow cannot be turned on or off by Update: the handler type differs", ErrInvalidOption)
	}
	if cfg.store != orig.store {
		return fmt.Errorf("%w: CheckpointStore cannot be changed by Update", ErrInvalidOption)
	}
	var flt *filter.Filter
	if len(cfg.filterPatterns) > 0 {
		var err error
		if flt, err = filter.Compile(cfg.filterPatterns, filter.MaxPatterns(cfg.maxFilters)); err != nil {
			return fmt.Errorf("%w: FilterCriteria: %v", ErrInvalidOption, err)
		}
	}
	return m.command(ctx, command{kind: cmdUpdate, update: &update{cfg: cfg, filter: flt}})
}

// command hands c to the running coordinator and waits for it, or applies
// it at once when Run has not started.
func (m *Mapping) command(ctx context.Context, c command) error {
	m.mu.Lock()
	switch {
	case m.closed:
		m.mu.Unlock()
		return ErrMappingClosed
	case !m.running:
		// Run reads the configuration under mu when it starts.
		switch c.kind {
		case cmdEnable:
			m.cfg.enabled = true
		case cmdDisable:
			m.cfg.enabled = false
		case cmdUpdate:
			m.applyUpdateLocked(c.update)
		}
		m.mu.Unlock()
		return nil
	}
	m.mu.Unlock()
	c.reply = make(chan error, 1)
	select {
	case m.cmds <- c:
	case <-m.runDone:
		return ErrMappingClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-c.reply:
		return err
	case <-ctx.Done():
		// The coordinator still carries the command out.
		return ctx.Err()
	}
}

// applyUpdate installs a validated configuration. The coordinator calls it
// when no processor runs, so nothing reads the old one concurrently.
func (m *Mapping) applyUpdate(u *update) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.applyUpdateLocked(u)
}

// applyUpdateLocked installs u; m.mu must be held.
func (m *Mapping) applyUpdateLocked(u *update) {
	enabled := m.cfg.enabled
	m.cfg = u.cfg
	m.cfg.enabled = enabled
	m.filter = u.filter
	m.hooks = newHookSet(m.cfg.hooks)
	m.log.LogAttrs(context.Background(), slog.LevelInfo, "mapping.updated")
}

// setState records a state change and tells the StateHook, if any.
func (m *Mapping) setState(s State, reason string) {
	m.mu.Lock()
	from := m.state
	m.state, m.reason = s, reason
	m.mu.Unlock()
	if from == s {
		return
	}
	m.log.LogAttrs(context.Background(), slog.LevelInfo, "mapping.state",
		slog.String("from", string(from)), slog.String("to", string(s)), slog.String("reason", reason))
	for _, h := range m.hooks.state {
		h.OnStateChange(from, s)
	}
}
