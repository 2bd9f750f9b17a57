// Package checkpointtest is the conformance suite for checkpoint drivers.
//
// A driver's conformance_test.go implements [Harness] and calls [Run]:
//
//	func TestConformance(t *testing.T) {
//		checkpointtest.Run(t, newHarness)
//	}
//
// Run tests the driver directly — conditional saves, versions, List,
// Delete, error classification, concurrent writers — and then the portable
// checkpoint.Store over it, so a driver that passes behaves like every
// other. Tests are named "Driver/…" and "Store/…" for use with -run.
package checkpointtest
