package destination

import (
	"fmt"
	"time"
)

// An Option configures a Destination. Options are made by the functions
// below and passed to New.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// config holds the settings of a Destination. All defaults are in
// defaultConfig.
type config struct {
	maxAttempts int
	minBackoff  time.Duration
	maxBackoff  time.Duration
}

// Lambda does not document whether or how it retries a delivery; these
// bound one Send to about 1.5 s of pauses plus the driver's calls.
func defaultConfig() config {
	return config{maxAttempts: 5, minBackoff: 100 * time.Millisecond, maxBackoff: 2 * time.Second}
}

// maxMaxAttempts bounds MaxAttempts so that a misconfiguration cannot make
// a discard block a shard for long.
const maxMaxAttempts = 100

func (c *config) validate() error {
	if c.maxAttempts < 1 || c.maxAttempts > maxMaxAttempts {
		return fmt.Errorf("%w: MaxAttempts %d not in [1, %d]", ErrInvalidOption, c.maxAttempts, maxMaxAttempts)
	}
	return nil
}

// MaxAttempts sets how many times Send calls the driver for one record when
// the driver reports a retryable error (throttling, 5xx, a dropped
// connection): n attempts in all, with a jittered exponential pause of
// 100 ms doubling up to 2 s between them. The default is 5; 1 turns retries
// off. n must be in [1, 100].
//
// AWS SDK clients retry on their own as well (3 attempts by default), so
// the calls made for one record can be up to n times the client's attempts.
func MaxAttempts(n int) Option {
	return optionFunc(func(c *config) { c.maxAttempts = n })
}
