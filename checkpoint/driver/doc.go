// Package driver defines the interface checkpoint drivers implement.
//
// Users do not call a driver directly: they pass one to checkpoint.New and
// use the portable *checkpoint.Store, which owns every policy — validation,
// never moving a checkpoint backwards, retries, conflict resolution,
// coalescing and error wrapping. A driver owns exactly one thing: doing one
// storage operation per call and reporting what happened, so that a new
// backend is small and every backend behaves alike. The conformance suite in
// checkpoint/checkpointtest states the contract of Store as tests; every driver
// must pass it.
package driver
