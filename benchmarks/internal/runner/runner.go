// Package runner runs the benchmark: it builds the endpoint and every
// contender, starts the endpoint in one process and each contender run in
// another, alternates contenders round by round, and turns the runs into
// tables of medians.
package runner

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/esmkit/esmkit/benchmarks/internal/endpoint"
	"github.com/esmkit/esmkit/benchmarks/internal/harness"
)

// Scenario is one stream and what is measured on it.
type Scenario struct {
	Name     string
	Short    string // for the table of every run
	Shards   int
	PerShard int  // records per shard, loaded before the first run (throughput)
	Size     int  // bytes of data per record
	Latency  bool // paced puts into a fresh stream per run, endpoint at 5 GetRecords/s/shard
}

// Records is the number of records a run consumes.
func (s Scenario) Records(latencyRecords int) int64 {
	if s.Latency {
		return int64(latencyRecords)
	}
	return int64(s.Shards) * int64(s.PerShard)
}

// DefaultScenarios are the scenarios.
func DefaultScenarios() []Scenario {
	return []Scenario{
		{Name: "4 shards × 250,000 × 1 KiB", Short: "1 KiB", Shards: 4, PerShard: 250_000, Size: 1024},
		{Name: "4 shards × 250,000 × 100 B", Short: "100 B", Shards: 4, PerShard: 250_000, Size: 100},
		{Name: "64 shards × 5,000 × 1 KiB", Short: "64 shards", Shards: 64, PerShard: 5_000, Size: 1024},
		{Name: "latency: 4 shards, 1 record / 10 ms, 5 GetRecords/s/shard", Short: "latency", Shards: 4, Size: 100, Latency: true},
	}
}

// Options configure Run.
type Options struct {
	Dir            string        // the benchmarks module directory
	Runs           int           // rounds; every contender runs once per round
	Timeout        time.Duration // per throughput run; a run still going reports what it consumed
	LatencyRecords int           // records put per latency run
	PutInterval    time.Duration // between puts in the latency scenario (10 ms)
	PollInterval   time.Duration // poll interval for caught-up shards (200 ms)
	Scenarios      []Scenario
	Contenders     []Contender
	ProfileDir     string    // if set, every run writes a CPU profile here
	Log            io.Writer // progress; nil for none
}

// RunResult is one contender process's run.
type RunResult struct {
	Scenario  string
	Short     string
	Contender string
	Round     int
	harness.Result
	ProcMaxRSSKiB int64 // getrusage of the exited child (runner side)
	PeakConns     int   // most Kinesis connections open at the endpoint during the run
	GetRecords    int   // GetRecords calls the endpoint served during the run
	Throttled     int64 // of which refused with ProvisionedThroughputExceededException
	EndpointCPUNS int64 // endpoint user+sys during the run
	Err           string
}

// Report is everything a full run produced.
type Report struct {
	Options  Options
	Machine  Machine
	Start    time.Time
	Duration time.Duration
	Runs     []RunResult
}

// Run builds the binaries and runs every scenario. It returns an error only
// when the harness itself fails (build, endpoint); a contender's failure is
// recorded in its RunResult.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	rep := &Report{Options: o, Machine: describeMachine(), Start: time.Now()}
	bin, err := os.MkdirTemp("", "esmkit-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(bin)
	pkgs := []string{"./cmd/endpoint"}
	for _, c := range o.Contenders {
		pkgs = append(pkgs, c.Pkg)
	}
	fmt.Fprintf(o.Log, "building %s\n", strings.Join(pkgs, " "))
	build := exec.CommandContext(ctx, "go", append([]string{"build", "-o", bin + string(filepath.Separator)}, pkgs...)...)
	build.Dir = o.Dir
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build: %v\n%s", err, out)
	}
	for _, sc := range o.Scenarios {
		runs, err := runScenario(ctx, o, bin, sc)
		rep.Runs = append(rep.Runs, runs...)
		if err != nil {
			return rep, fmt.Errorf("scenario %s: %w", sc.Name, err)
		}
	}
	rep.Duration = time.Since(rep.Start)
	return rep, nil
}

func runScenario(ctx context.Context, o Options, bin string, sc Scenario) ([]RunResult, error) {
	readRate := 0
	if sc.Latency {
		readRate = 5
	}
	ep, err := startEndpoint(ctx, filepath.Join(bin, "endpoint"), readRate)
	if err != nil {
		return nil, err
	}
	defer ep.close()
	var arn string
	if !sc.Latency {
		t := time.Now()
		fmt.Fprintf(o.Log, "\n%s: loading %d records\n", sc.Name, sc.Records(0))
		var out struct{ ARN string }
		if err := ep.post(ctx, "/load", url.Values{
			"name": {"bench"}, "shards": {itoa(sc.Shards)}, "per_shard": {itoa(sc.PerShard)}, "size": {itoa(sc.Size)},
		}, &out); err != nil {
			return nil, err
		}
		arn = out.ARN
		fmt.Fprintf(o.Log, "loaded in %v\n", time.Since(t).Round(time.Millisecond))
	} else {
		fmt.Fprintf(o.Log, "\n%s\n", sc.Name)
	}
	var runs []RunResult
	for round := range o.Runs {
		for i := range o.Contenders {
			c := o.Contenders[(i+round)%len(o.Contenders)]
			r, err := runOne(ctx, o, bin, ep, sc, c, round, arn)
			if err != nil {
				return runs, err
			}
			runs = append(runs, r)
			fmt.Fprintf(o.Log, "  round %d %-10s %s\n", round+1, c.Name, r.summary(sc))
		}
	}
	return runs, nil
}

func runOne(ctx context.Context, o Options, bin string, ep *endpointProc, sc Scenario, c Contender, round int, arn string) (RunResult, error) {
	r := RunResult{Scenario: sc.Name, Short: sc.Short, Contender: c.Name, Round: round}
	stream := "bench"
	timeout := o.Timeout
	if sc.Latency {
		stream = fmt.Sprintf("lat-%d-%s", round, filepath.Base(c.Pkg))
		var out struct{ ARN string }
		if err := ep.post(ctx, "/stream", url.Values{"name": {stream}, "shards": {itoa(sc.Shards)}}, &out); err != nil {
			return r, err
		}
		arn = out.ARN
		timeout = time.Duration(o.LatencyRecords)*o.PutInterval + 30*time.Second
	}
	// Connections of the previous run close when its process exits; wait
	// for the endpoint to see that so that they do not count here.
	s0, err := ep.quiesce(ctx)
	if err != nil {
		return r, err
	}
	cmd := exec.CommandContext(ctx, filepath.Join(bin, filepath.Base(c.Pkg)),
		"-endpoint", ep.addrs.Kinesis, "-stream", stream, "-arn", arn,
		"-records", strconv.FormatInt(sc.Records(o.LatencyRecords), 10),
		"-poll", o.PollInterval.String(), "-timeout", timeout.String(),
		"-latency="+strconv.FormatBool(sc.Latency))
	if o.ProfileDir != "" {
		cmd.Args = append(cmd.Args, "-cpuprofile", filepath.Join(o.ProfileDir,
			fmt.Sprintf("%s-%s-%d.pprof", strings.ReplaceAll(sc.Short, " ", ""), filepath.Base(c.Pkg), round+1)))
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &limitedBuffer{max: 64 << 10, buf: &stderr}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return r, err
	}
	waitc := make(chan error, 1)
	go func() { waitc <- cmd.Wait() }()
	if sc.Latency {
		if err := produce(ctx, o, ep, sc, stream, s0, waitc); err != nil {
			r.Err = err.Error()
		}
	}
	var werr error
	select {
	case werr = <-waitc:
	case <-time.After(timeout + 30*time.Second):
		_ = cmd.Process.Kill()
		werr = fmt.Errorf("killed: no result %v after its timeout", 30*time.Second)
		<-waitc
	}
	s1, err := ep.stats(ctx)
	if err != nil {
		return r, err
	}
	r.PeakConns = s1.Peak
	r.GetRecords = s1.GetRecords - s0.GetRecords
	r.Throttled = s1.Throttled - s0.Throttled
	r.EndpointCPUNS = s1.CPUNS - s0.CPUNS
	if ps := cmd.ProcessState; ps != nil {
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			r.ProcMaxRSSKiB = int64(ru.Maxrss)
		}
	}
	if res, ok := lastJSON(stdout.Bytes()); ok {
		r.Result = res
	}
	switch {
	case r.Result.Error != "":
		r.Err = r.Result.Error
	case werr != nil:
		r.Err = fmt.Sprintf("%v: %s", werr, crash(stderr.String()))
	case r.Result.Contender == "":
		r.Err = "no result line on stdout: " + crash(stderr.String())
	}
	return r, nil
}

// produce waits until the consumer polls every shard, then has the
// endpoint put the latency records.
func produce(ctx context.Context, o Options, ep *endpointProc, sc Scenario, stream string, s0 endpoint.Stats, waitc chan error) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		s, err := ep.stats(ctx)
		if err != nil {
			return err
		}
		if s.GetRecords-s0.GetRecords >= sc.Shards {
			break
		}
		if time.Now().After(deadline) {
			return errors.New("consumer did not poll every shard within 30 s")
		}
		select {
		case err := <-waitc:
			waitc <- err // let the caller see the exit too
			return fmt.Errorf("consumer exited before producing: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	time.Sleep(500 * time.Millisecond) // every shard is in its steady polling rhythm
	return ep.post(ctx, "/produce", url.Values{
		"name": {stream}, "n": {itoa(o.LatencyRecords)}, "size": {itoa(sc.Size)}, "interval": {o.PutInterval.String()},
	}, nil)
}

func (r RunResult) summary(sc Scenario) string {
	if r.Err != "" {
		return "FAILED: " + tail(r.Err, 300)
	}
	s := fmt.Sprintf("%d records in %v", r.Records, time.Duration(r.ElapsedNS).Round(time.Millisecond))
	if r.TimedOut {
		s += " (timed out)"
	}
	if sc.Latency {
		return s + fmt.Sprintf(", p50 %.1f ms, p99 %.1f ms, %d GetRecords (%d throttled)", ms(r.P50NS), ms(r.P99NS), r.GetRecords, r.Throttled)
	}
	return s + fmt.Sprintf(", %.0f records/s, %.2f CPU µs/record, peak %d conns", r.rate(), r.cpuPerRecordUS(), r.PeakConns)
}

func (r RunResult) rate() float64 {
	if r.ElapsedNS == 0 {
		return 0
	}
	return float64(r.Records) / (float64(r.ElapsedNS) / 1e9)
}

func (r RunResult) cpuPerRecordUS() float64 { return perRecord(float64(r.CPUNS)/1e3, r.Records) }

func perRecord(v float64, n int64) float64 {
	if n == 0 {
		return 0
	}
	return v / float64(n)
}

func ms(ns int64) float64 { return float64(ns) / 1e6 }

// endpointProc is a running endpoint process.
type endpointProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	addrs endpoint.Addrs
	http  *http.Client
}

func startEndpoint(ctx context.Context, path string, readRate int) (*endpointProc, error) {
	cmd := exec.CommandContext(ctx, path, "-readrate", itoa(readRate))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	ep := &endpointProc{cmd: cmd, stdin: stdin, http: &http.Client{}}
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err == nil {
		err = json.Unmarshal(line, &ep.addrs)
	}
	if err != nil {
		ep.close()
		return nil, fmt.Errorf("endpoint did not print its addresses: %v", err)
	}
	return ep, nil
}

func (ep *endpointProc) close() {
	_ = ep.stdin.Close()
	done := make(chan struct{})
	go func() { _ = ep.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = ep.cmd.Process.Kill()
		<-done
	}
}

func (ep *endpointProc) post(ctx context.Context, path string, q url.Values, out any) error {
	return ep.do(ctx, http.MethodPost, path, q, out)
}

func (ep *endpointProc) stats(ctx context.Context) (endpoint.Stats, error) {
	var s endpoint.Stats
	err := ep.do(ctx, http.MethodGet, "/stats", nil, &s)
	return s, err
}

// quiesce waits up to 5 s for the endpoint to have no open Kinesis
// connection, resets the peak and returns the counters.
func (ep *endpointProc) quiesce(ctx context.Context) (endpoint.Stats, error) {
	for deadline := time.Now().Add(5 * time.Second); ; {
		s, err := ep.stats(ctx)
		if err != nil {
			return s, err
		}
		if s.Open == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	var s endpoint.Stats
	err := ep.do(ctx, http.MethodPost, "/reset", nil, &s)
	return s, err
}

func (ep *endpointProc) do(ctx context.Context, method, path string, q url.Values, out any) error {
	u := ep.addrs.Control + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return err
	}
	resp, err := ep.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("endpoint %s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(body))
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(body, out)
}

// lastJSON returns the last stdout line that decodes as a Result.
func lastJSON(b []byte) (harness.Result, bool) {
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	for i := len(lines) - 1; i >= 0; i-- {
		var r harness.Result
		if bytes.HasPrefix(lines[i], []byte("{")) && json.Unmarshal(lines[i], &r) == nil && r.Contender != "" {
			return r, true
		}
	}
	return harness.Result{}, false
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	max int
	buf *bytes.Buffer
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// crash returns the line of a crashed process's stderr that says why (a
// panic or fatal error), else its last 500 bytes.
func crash(stderr string) string {
	for _, line := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(line, "panic: ") || strings.HasPrefix(line, "fatal error: ") {
			return line
		}
	}
	return tail(stderr, 500)
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func itoa(n int) string { return strconv.Itoa(n) }
