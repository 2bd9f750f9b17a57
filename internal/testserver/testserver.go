package testserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// StartTimeout bounds how long a server may take, after its process starts,
// to answer its first HTTP request. The servers are ready in 0.2–0.7 s on an
// idle machine; the margin is for a loaded CI machine running several test
// binaries at once.
const StartTimeout = 30 * time.Second

// The servers keep everything in memory, so there is nothing to lose by
// killing them; SIGTERM comes first only to be polite. kinesalite, dynalite
// and fauxqs exit on it within 10 ms; kinesis-local ignores it, so the grace
// is short.
const (
	stopGrace   = 500 * time.Millisecond // after SIGTERM, before SIGKILL
	stopTimeout = 5 * time.Second        // after SIGKILL
)

// Kinesis returns the endpoint of a kinesalite server: the Kinesis polling API
// (no UpdateShardCount, consumers, StreamARN parameters or ChildShards).
// TEST_KINESIS_ENDPOINT overrides it. Kinesis is safe for concurrent use; the
// first call in a process starts the server and blocks until it answers.
func Kinesis(t testing.TB) string {
	t.Helper()
	return kinesisEndpoint.get(t)
}

// KinesisMock returns the plain-HTTP endpoint of a kinesis-local server
// (kinesis-mock): the fuller Kinesis API, with UpdateShardCount, ShardFilter,
// StreamARN, ChildShards, consumers and SubscribeToShard, about 15 times
// slower than kinesalite. TEST_KINESIS_EFO_ENDPOINT overrides it. It blocks
// and is safe for concurrent use like [Kinesis].
func KinesisMock(t testing.TB) string {
	t.Helper()
	return kinesisMockEndpoint.get(t)
}

// KinesisMockTLS returns the HTTPS endpoint (self-signed certificate, HTTP/2
// capable) of the same kinesis-local process as [KinesisMock].
// TEST_KINESIS_EFO_TLS_ENDPOINT overrides it.
func KinesisMockTLS(t testing.TB) string {
	t.Helper()
	return kinesisMockTLSEndpoint.get(t)
}

// Dynamo returns the endpoint of a dynalite server (DynamoDB without
// transactions or TTL). TEST_DYNAMODB_ENDPOINT overrides it. It blocks and is
// safe for concurrent use like [Kinesis].
func Dynamo(t testing.TB) string {
	t.Helper()
	return dynamoEndpoint.get(t)
}

// SQS returns the SQS endpoint of a fauxqs server. TEST_SQS_ENDPOINT
// overrides it. SQS, [SNS] and [S3] share one fauxqs process.
func SQS(t testing.TB) string {
	t.Helper()
	return sqsEndpoint.get(t)
}

// SNS returns the SNS endpoint of a fauxqs server (the same process as
// [SQS], so SNS→SQS subscriptions deliver). TEST_SNS_ENDPOINT overrides it.
func SNS(t testing.TB) string {
	t.Helper()
	return snsEndpoint.get(t)
}

// S3 returns the S3 endpoint (path-style addressing) of a fauxqs server, the
// same process as [SQS]. TEST_S3_ENDPOINT overrides it.
func S3(t testing.TB) string {
	t.Helper()
	return s3Endpoint.get(t)
}

// The table of servers. A server is one node process with one or more
// loopback ports; an endpoint is a URL on one of those ports. Adding a
// server is one entry here plus an exported accessor above.
var (
	kinesalite = &server{
		name:   "kinesalite",
		script: "kinesalite/cli.js",
		ports:  1,
		command: func(nm string, ports []int) (args, env []string) {
			// The default limit of 10 open shards over all streams is too
			// few for a test binary's many streams.
			return []string{filepath.Join(nm, "kinesalite/cli.js"), "--port", strconv.Itoa(ports[0]), "--shardLimit", "1000"}, nil
		},
	}
	kinesisLocal = &server{
		name:   "kinesis-local",
		script: "kinesis-local/main.js",
		ports:  2, // plain HTTP, then HTTPS
		health: "/healthcheck",
		command: func(nm string, ports []int) (args, env []string) {
			return []string{filepath.Join(nm, "kinesis-local/main.js")}, []string{
				"KINESIS_MOCK_PLAIN_PORT=" + strconv.Itoa(ports[0]),
				"KINESIS_MOCK_TLS_PORT=" + strconv.Itoa(ports[1]),
				"KINESIS_MOCK_CERT_PATH=" + filepath.Join(nm, "kinesis-local/server.json"),
				"LOG_LEVEL=WARN",
				"SHARD_LIMIT=1000", // the default 50 is too few for a test binary
			}
		},
	}
	dynalite = &server{
		name:   "dynalite",
		script: "dynalite/cli.js",
		ports:  1,
		command: func(nm string, ports []int) (args, env []string) {
			return []string{filepath.Join(nm, "dynalite/cli.js"), "--host", "127.0.0.1", "--port", strconv.Itoa(ports[0])}, nil
		},
	}
	fauxqs = &server{
		name:   "fauxqs",
		script: "fauxqs/dist/app.js",
		ports:  1,
		command: func(nm string, ports []int) (args, env []string) {
			// The library entry point rather than the CLI: the CLI logs every
			// request as JSON and ignores FAUXQS_LOGGER=false.
			return []string{
				"--input-type=module", "-e",
				"const m = await import(process.argv[1]); await m.startFauxqs({ port: Number(process.env.FAUXQS_PORT), logger: false });",
				filepath.Join(nm, "fauxqs/dist/app.js"),
			}, []string{"FAUXQS_PORT=" + strconv.Itoa(ports[0])}
		},
	}

	kinesisEndpoint        = &endpoint{env: "TEST_KINESIS_ENDPOINT", server: kinesalite, scheme: "http"}
	kinesisMockEndpoint    = &endpoint{env: "TEST_KINESIS_EFO_ENDPOINT", server: kinesisLocal, scheme: "http"}
	kinesisMockTLSEndpoint = &endpoint{env: "TEST_KINESIS_EFO_TLS_ENDPOINT", server: kinesisLocal, scheme: "https", port: 1}
	dynamoEndpoint         = &endpoint{env: "TEST_DYNAMODB_ENDPOINT", server: dynalite, scheme: "http"}
	sqsEndpoint            = &endpoint{env: "TEST_SQS_ENDPOINT", server: fauxqs, scheme: "http"}
	snsEndpoint            = &endpoint{env: "TEST_SNS_ENDPOINT", server: fauxqs, scheme: "http"}
	s3Endpoint             = &endpoint{env: "TEST_S3_ENDPOINT", server: fauxqs, scheme: "http"}
)

// An endpoint is one URL of a server, overridable by an environment variable.
type endpoint struct {
	env    string // variable that, when set, replaces the started server
	server *server
	scheme string
	port   int // index into server.ports
}

func (e *endpoint) get(t testing.TB) string {
	t.Helper()
	if !mainCalled.Load() {
		t.Fatal("testserver: TestMain must call testserver.Main so that started servers are stopped:\n\n" +
			"\tfunc TestMain(m *testing.M) { os.Exit(testserver.Main(m)) }")
	}
	if v := os.Getenv(e.env); v != "" {
		return strings.TrimSuffix(v, "/")
	}
	ports, err := e.server.start()
	if err != nil {
		t.Fatalf("testserver: %v", err)
	}
	return fmt.Sprintf("%s://127.0.0.1:%d", e.scheme, ports[e.port])
}

// A server is one node program started at most once per test process.
type server struct {
	name    string // as in logs and messages
	script  string // path under node_modules whose presence means "installed"
	ports   int    // loopback ports to allocate
	health  string // path polled until any HTTP answer; "" means "/"
	command func(nm string, ports []int) (args, env []string)

	once      sync.Once
	portsUsed []int // set by once
	err       error // set by once; every later caller gets the same error
}

func (s *server) start() ([]int, error) {
	s.once.Do(func() { s.portsUsed, s.err = s.startOnce() })
	return s.portsUsed, s.err
}

// startFailureHelp is appended to every start error: what to run.
const startFailureHelp = "Install the test servers (needs Node.js >= 20 and npm) with\n" +
	"\ttools/testservers/testservers.sh install\n" +
	"or run every test with ./tools/test.sh, which installs them first."

func (s *server) startOnce() ([]int, error) {
	dir, err := toolsDir()
	if err != nil {
		return nil, fmt.Errorf("%s: %w\n%s", s.name, err, startFailureHelp)
	}
	nm := filepath.Join(dir, "node_modules")
	if _, err := os.Stat(filepath.Join(nm, s.script)); err != nil {
		return nil, fmt.Errorf("%s is not installed (%w).\n%s", s.name, err, startFailureHelp)
	}
	nodeName := os.Getenv("NODE") // the same override as testservers.sh
	if nodeName == "" {
		nodeName = "node"
	}
	node, err := exec.LookPath(nodeName)
	if err != nil {
		return nil, fmt.Errorf("%s: %w\n%s", s.name, err, startFailureHelp)
	}

	// A free port is found by binding :0 and closing the listener, so another
	// process may take it before node binds it. Try a few times: a clash
	// shows up as the process exiting during start-up (EADDRINUSE).
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		ports, err := freePorts(s.ports)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
		args, env := s.command(nm, ports)
		// The preload forces every listener onto 127.0.0.1: kinesalite,
		// kinesis-local and fauxqs would otherwise listen on all interfaces.
		args = append([]string{"--require", filepath.Join(dir, "bind-loopback.cjs")}, args...)
		p, err := launch(s.name, node, args, env)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
		healthURL := fmt.Sprintf("http://127.0.0.1:%d%s", ports[0], s.health)
		err = p.waitReady(healthURL, StartTimeout)
		if err == nil {
			return ports, nil
		}
		p.stop()
		lastErr = fmt.Errorf("%s did not start: %w\n%s\n--- last lines of %s's output ---\n%s",
			s.name, err, startFailureHelp, s.name, p.out.tail(30))
		if !p.exited() || !strings.Contains(p.out.String(), "EADDRINUSE") {
			break
		}
	}
	return nil, lastErr
}

// toolsDir finds tools/testservers by walking up from the working directory
// (a test runs in its package directory), then from this source file. It
// looks for the folder rather than go.mod so that a nested module (an
// example with its own go.mod) still finds the main module's tools.
func toolsDir() (string, error) {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		starts = append(starts, filepath.Dir(file))
	}
	for _, d := range starts {
		for {
			cand := filepath.Join(d, "tools", "testservers")
			if _, err := os.Stat(filepath.Join(cand, "package.json")); err == nil {
				return cand, nil
			}
			parent := filepath.Dir(d)
			if parent == d {
				break
			}
			d = parent
		}
	}
	return "", errors.New("cannot find tools/testservers/package.json above the working directory or this package's source")
}

// freePorts returns n distinct loopback ports that were free a moment ago.
// All n listeners are open together so the same port is not returned twice.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var lc net.ListenConfig
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

var (
	// mainCalled reports whether Main is running, so that a package that
	// forgot it fails instead of relying on process exit to stop servers.
	mainCalled atomic.Bool

	// procsMu protects procs, the processes started and not yet stopped.
	procsMu sync.Mutex
	procs   []*process
)

// Main runs the tests and then stops every server this process started, and
// returns m.Run's exit code. Call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(testserver.Main(m)) }
//
// Every function that returns an endpoint fails the test if Main is not
// running.
func Main(m *testing.M) int {
	mainCalled.Store(true)
	defer stopAll()
	return m.Run()
}

// stopAll stops the started processes concurrently; each stop is bounded.
func stopAll() {
	procsMu.Lock()
	ps := procs
	procs = nil
	procsMu.Unlock()
	var wg sync.WaitGroup
	for _, p := range ps {
		wg.Go(p.stop)
	}
	wg.Wait()
}

// A process is one started node server.
type process struct {
	name string
	cmd  *exec.Cmd
	out  *tailBuffer
	done chan struct{} // closed once cmd.Wait has returned
}

// launch starts node with args and extra environment, and records the
// process for stopAll.
func launch(name, node string, args, env []string) (*process, error) {
	out := &tailBuffer{max: 64 << 10}
	// No context: the process outlives the call; stop ends it.
	cmd := exec.CommandContext(context.Background(), node, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.Stdin = nil
	// Own process group (so stop reaches any child, and a terminal's Ctrl-C
	// reaches only the test binary) and, on Linux, SIGKILL when the test
	// binary dies, so an interrupted run leaves no node behind.
	cmd.SysProcAttr = sysProcAttr()
	// Bound Wait's copying of output if a grandchild keeps the pipe open.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	procsMu.Lock()
	procs = append(procs, p)
	procsMu.Unlock()
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitReady polls url until any HTTP response comes back (the status does
// not matter: kinesalite answers GET / with 400), the process exits, or
// timeout passes.
func (p *process) waitReady(url string, timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no HTTP answer from %s within %v (last error: %w)", url, timeout, err)
		}
		select {
		case <-p.done:
			return fmt.Errorf("process %d exited during start-up: %v", p.cmd.Process.Pid, p.cmd.ProcessState)
		case <-tick.C:
		}
	}
}

// stop sends SIGTERM to the process group, then SIGKILL if it has not exited
// within stopGrace, and waits for it. It is idempotent.
func (p *process) stop() {
	procsMu.Lock()
	for i, q := range procs {
		if q == p {
			procs = append(procs[:i], procs[i+1:]...)
			break
		}
	}
	procsMu.Unlock()
	if p.exited() {
		return
	}
	terminate(p.cmd.Process)
	select {
	case <-p.done:
		return
	case <-time.After(stopGrace):
	}
	kill(p.cmd.Process)
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		fmt.Fprintf(os.Stderr, "testserver: %s (pid %d) did not exit after SIGKILL\n", p.name, p.cmd.Process.Pid)
	}
}

// tailBuffer keeps the last max bytes written to it. It is safe for
// concurrent use.
type tailBuffer struct {
	mu  sync.Mutex // protects buf
	buf []byte
	max int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// tail returns the last n lines, or a note that there was no output.
func (b *tailBuffer) tail(n int) string {
	s := strings.TrimRight(b.String(), "\n")
	if s == "" {
		return "(no output)"
	}
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
