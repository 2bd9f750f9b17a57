// Command bench compares Kinesis consumers against the kinesistest HTTP
// endpoint, each in its own process, and prints tables of medians (also
// written to RESULTS.md). Run it from the benchmarks directory:
//
//	cd benchmarks && go run ./cmd/bench
//
// See README.md for the scenarios, the flags and how to add a contender.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/esmkit/esmkit/benchmarks/internal/runner"
)

func main() {
	runs := flag.Int("runs", 5, "runs per contender and scenario (medians are reported)")
	scale := flag.Float64("scale", 1, "multiply the records per shard of the throughput scenarios (e.g. 0.1 for a quick look)")
	timeout := flag.Duration("timeout", 20*time.Second, "per throughput run: report what a contender consumed by then")
	latRecords := flag.Int("latency-records", 600, "records put per latency run (one every 10 ms)")
	only := flag.String("contenders", "", "comma-separated contender names to run (default: all)")
	scenarios := flag.String("scenarios", "", "comma-separated scenario numbers 1-4 to run (default: all)")
	out := flag.String("out", "RESULTS.md", "write the report here (empty: do not write)")
	profiles := flag.String("cpuprofile", "", "write a CPU profile of every consumer run into this directory")
	flag.Parse()

	dir, err := moduleDir()
	if err != nil {
		fail(err)
	}
	o := runner.Options{
		Dir: dir, Runs: *runs, Timeout: *timeout, LatencyRecords: *latRecords,
		PutInterval: 10 * time.Millisecond, PollInterval: 200 * time.Millisecond,
		ProfileDir: *profiles, Log: os.Stderr,
	}
	for i, sc := range runner.DefaultScenarios() {
		if *scenarios != "" && !contains(*scenarios, fmt.Sprint(i+1)) {
			continue
		}
		sc.PerShard = max(1, int(float64(sc.PerShard)**scale))
		if *scale != 1 && !sc.Latency {
			sc.Name += fmt.Sprintf(" (scaled ×%g: %d per shard)", *scale, sc.PerShard)
		}
		o.Scenarios = append(o.Scenarios, sc)
	}
	for _, c := range runner.Contenders {
		if *only == "" || contains(*only, c.Name) {
			o.Contenders = append(o.Contenders, c)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := runner.Run(ctx, o)
	if rep == nil {
		fail(err)
	}
	md := rep.Markdown(strings.TrimSpace("go run ./cmd/bench " + strings.Join(os.Args[1:], " ")))
	fmt.Println(md)
	if *out != "" {
		path := *out
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		if werr := os.WriteFile(path, []byte(md), 0o644); werr != nil {
			fail(werr)
		}
		fmt.Fprintln(os.Stderr, "wrote", path)
	}
	if err != nil {
		fail(err)
	}
}

// moduleDir is the benchmarks module's directory, found from the working
// directory as the go command finds it.
func moduleDir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil {
			if strings.Contains(string(b), "module github.com/esmkit/esmkit/benchmarks\n") {
				return d, nil
			}
			return "", fmt.Errorf("run from the benchmarks directory (found %s/go.mod of another module)", d)
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("run from the benchmarks directory: no go.mod above %s", wd)
		}
	}
}

func contains(list, s string) bool {
	for _, x := range strings.Split(list, ",") {
		if strings.TrimSpace(x) == s {
			return true
		}
	}
	return false
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}
