package memcheckpoint_test

import (
	"context"
	"testing"

	"github.com/esmkit/esmkit/checkpoint/checkpointtest"
	"github.com/esmkit/esmkit/checkpoint/driver"
	"github.com/esmkit/esmkit/checkpoint/memcheckpoint"
)

// harness shares one in-memory Store among the driver.Stores it makes, as
// workers share a table.
type harness struct{ s *memcheckpoint.Store }

func (h harness) MakeStore(context.Context) (driver.Store, error) { return h.s, nil }
func (harness) MaxStateSize() int                                 { return 1 << 20 }
func (harness) Close()                                            {}

func TestConformance(t *testing.T) {
	checkpointtest.Run(t, func(context.Context, *testing.T) (checkpointtest.Harness, error) {
		return harness{memcheckpoint.New()}, nil
	})
}
