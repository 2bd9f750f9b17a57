package runner_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/esmkit/esmkit/benchmarks/internal/runner"
)

// TestSmoke runs every contender once on tiny throughput and latency
// scenarios, each in its own process against the endpoint process, and
// checks that each consumed every record. It keeps the harness and every
// contender building and working; it measures nothing.
func TestSmoke(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	o := runner.Options{
		Dir:            dir,
		Runs:           1,
		Timeout:        60 * time.Second,
		LatencyRecords: 20,
		PutInterval:    10 * time.Millisecond,
		PollInterval:   200 * time.Millisecond,
		// One shard: harlow/kinesis-consumer v0.3.6's Scan writes a map from
		// one goroutine per shard without a lock, and with several shards
		// crashes now and then ("concurrent map writes"); the benchmark
		// reports such runs as failed, the smoke test must not flake.
		Scenarios: []runner.Scenario{
			{Name: "smoke: 1 shard × 600 × 100 B", Short: "throughput", Shards: 1, PerShard: 600, Size: 100},
			{Name: "smoke: latency, 1 shard", Short: "latency", Shards: 1, Size: 100, Latency: true},
		},
		Contenders: runner.Contenders,
		Log:        testWriter{t},
	}
	rep, err := runner.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(rep.Runs), len(o.Scenarios)*len(o.Contenders); got != want {
		t.Fatalf("got %d runs, want %d", got, want)
	}
	for _, r := range rep.Runs {
		want := int64(600)
		if r.Short == "latency" {
			want = int64(o.LatencyRecords)
		}
		switch {
		case r.Err != "":
			t.Errorf("%s, %s: %s", r.Scenario, r.Contender, r.Err)
		case r.TimedOut || r.Records < want:
			t.Errorf("%s, %s: got %d records (timed out %v), want %d", r.Scenario, r.Contender, r.Records, r.TimedOut, want)
		}
	}
	md := rep.Markdown("go test")
	for _, c := range o.Contenders {
		if !strings.Contains(md, "| "+c.Name+" |") {
			t.Errorf("report has no row for %s", c.Name)
		}
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
