package checkpoint

import (
	"fmt"
	"time"
)

// An Option configures a Store. Options are made by the functions below and
// passed to New.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// config holds the settings of a Store. All defaults are in defaultConfig.
type config struct {
	flushInterval time.Duration // 0: write through
}

func defaultConfig() config {
	return config{flushInterval: 0}
}

func (c *config) validate() error {
	if c.flushInterval < 0 {
		return fmt.Errorf("%w: FlushInterval %v is negative", ErrInvalidOption, c.flushInterval)
	}
	return nil
}

// FlushInterval makes Save write a key at most once per d, keeping newer
// values in memory until then (see "Coalescing" in the package doc). A Save
// with ShardEnded true, Flush and Close write at once.
//
// The default, 0, writes every Save that changes a checkpoint at once, like
// Lambda, which checkpoints after every batch. A negative d is an error.
func FlushInterval(d time.Duration) Option {
	return optionFunc(func(c *config) { c.flushInterval = d })
}
