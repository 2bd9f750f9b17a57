// Package harness is the consumer side of a benchmark run: flags, the
// shared SDK client, record counting or latency recording, and the JSON
// result a contender process prints on stdout.
//
// Each contender is a main package whose main calls [Main] with a function
// that starts the consumer under test. Main measures from just before that
// function is called until the expected number of records has been seen:
// wall time, CPU time (getrusage, user+sys), allocations and bytes allocated
// (runtime.MemStats), and in latency mode the put-to-handler latencies.
package harness

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/esmkit/esmkit/internal/testserver"
)

// Config is what the runner tells a contender process through flags.
type Config struct {
	Endpoint   string        // Kinesis endpoint URL
	Stream     string        // stream name
	StreamARN  string        // stream ARN
	Records    int64         // records to consume before the run ends
	Latency    bool          // record put-to-handler latency instead of only counting
	Poll       time.Duration // poll interval for a caught-up shard, where the contender has one
	Timeout    time.Duration // give up and report what was consumed
	CPUProfile string        // if set, write a CPU profile of the measured window here
}

// Result is the JSON line a contender prints on stdout.
type Result struct {
	Contender  string `json:"contender"`
	Records    int64  `json:"records"`
	ElapsedNS  int64  `json:"elapsed_ns"`
	CPUNS      int64  `json:"cpu_ns"` // user+sys of the process during the measured window
	Mallocs    uint64 `json:"mallocs"`
	AllocBytes uint64 `json:"alloc_bytes"`
	NumGC      uint32 `json:"num_gc"`
	MaxRSSKiB  int64  `json:"maxrss_kib"`
	// MinorFaults counts page faults served without I/O during the window:
	// mostly first touches of memory the Go runtime took from the kernel.
	MinorFaults int64  `json:"minor_faults"`
	TimedOut    bool   `json:"timed_out,omitempty"`
	P50NS       int64  `json:"p50_ns,omitempty"`
	P99NS       int64  `json:"p99_ns,omitempty"`
	MaxNS       int64  `json:"max_ns,omitempty"`
	Error       string `json:"error,omitempty"`
}

// StartFunc starts the consumer under test. It may block until ctx is done
// or return at once; a non-nil error other than ctx's ends the run.
type StartFunc func(ctx context.Context, cfg Config, rec *Recorder) error

// Main parses the flags, runs start and prints the [Result]. It never
// returns: the process exits, without waiting for the consumer to shut
// down, as soon as the result is printed.
func Main(contender string, start StartFunc) {
	var cfg Config
	flag.StringVar(&cfg.Endpoint, "endpoint", "", "Kinesis endpoint URL")
	flag.StringVar(&cfg.Stream, "stream", "", "stream name")
	flag.StringVar(&cfg.StreamARN, "arn", "", "stream ARN")
	flag.Int64Var(&cfg.Records, "records", 0, "records to consume")
	flag.BoolVar(&cfg.Latency, "latency", false, "measure put-to-handler latency (data starts with the put time)")
	flag.DurationVar(&cfg.Poll, "poll", 200*time.Millisecond, "poll interval of a caught-up shard")
	flag.DurationVar(&cfg.Timeout, "timeout", 60*time.Second, "report what was consumed after this long")
	flag.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write a CPU profile of the measured window to this file")
	flag.Parse()
	res := run(contender, cfg, start)
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
	os.Exit(0)
}

func run(contender string, cfg Config, start StartFunc) Result {
	res := Result{Contender: contender}
	if cfg.Endpoint == "" || cfg.Stream == "" || cfg.Records <= 0 {
		res.Error = "need -endpoint, -stream and -records > 0"
		return res
	}
	rec := newRecorder(cfg.Records, cfg.Latency)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	if cfg.CPUProfile != "" {
		f, err := os.Create(cfg.CPUProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			res.Error = err.Error()
			return res
		}
		defer func() { pprof.StopCPUProfile(); _ = f.Close() }()
	}
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	cpu0 := cpuTime()
	flt0 := minorFaults()
	t0 := time.Now()

	errc := make(chan error, 1)
	go func() { errc <- start(ctx, cfg, rec) }()
	timer := time.NewTimer(cfg.Timeout)
	defer timer.Stop()
	for done := false; !done; {
		select {
		case <-rec.done:
			done = true
		case err := <-errc:
			if err != nil && !errors.Is(err, context.Canceled) {
				res.Error = err.Error()
				done = true
			}
			errc = nil // start returned nil: the consumer runs in its own goroutines
		case <-timer.C:
			res.TimedOut = true
			done = true
		}
	}
	elapsed := time.Since(t0)
	cpu1 := cpuTime()
	runtime.ReadMemStats(&m1)

	res.Records = rec.n.Load()
	res.ElapsedNS = elapsed.Nanoseconds()
	res.CPUNS = (cpu1 - cpu0).Nanoseconds()
	res.Mallocs = m1.Mallocs - m0.Mallocs
	res.AllocBytes = m1.TotalAlloc - m0.TotalAlloc
	res.NumGC = m1.NumGC - m0.NumGC
	res.MaxRSSKiB = maxRSSKiB()
	res.MinorFaults = minorFaults() - flt0
	if cfg.Latency {
		res.P50NS, res.P99NS, res.MaxNS = rec.percentiles()
	}
	return res
}

// Recorder counts records, and in latency mode keeps each record's
// put-to-handler latency. It is safe for concurrent use.
type Recorder struct {
	want    int64
	n       atomic.Int64
	done    chan struct{} // closed once want records were seen
	once    sync.Once
	latency bool

	mu  sync.Mutex // guards lat
	lat []int64
}

func newRecorder(want int64, latency bool) *Recorder {
	r := &Recorder{want: want, done: make(chan struct{}), latency: latency}
	if latency {
		r.lat = make([]int64, 0, want)
	}
	return r
}

// Latency reports whether the run measures latency; a contender then calls
// [Recorder.Seen] with every record's data.
func (r *Recorder) Latency() bool { return r.latency }

// Add counts n records that reached the handler.
func (r *Recorder) Add(n int) {
	if n == 0 {
		return
	}
	if r.n.Add(int64(n)) >= r.want {
		r.once.Do(func() { close(r.done) })
	}
}

// Seen records one record that reached the handler at now. In latency mode
// data starts with the put time in Unix nanoseconds, big-endian.
func (r *Recorder) Seen(now time.Time, data []byte) {
	if r.latency && len(data) >= 8 {
		d := now.UnixNano() - int64(binary.BigEndian.Uint64(data))
		r.mu.Lock()
		r.lat = append(r.lat, d)
		r.mu.Unlock()
	}
	r.Add(1)
}

func (r *Recorder) percentiles() (p50, p99, maxNS int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.lat) == 0 {
		return 0, 0, 0
	}
	s := slices.Clone(r.lat)
	slices.Sort(s)
	at := func(q float64) int64 { return s[min(len(s)-1, int(q*float64(len(s))))] }
	return at(0.50), at(0.99), s[len(s)-1]
}

// NewClient returns the *kinesis.Client every contender uses: static dummy
// credentials, the SDK's standard retryer, and esmkit's test HTTP client
// (64 idle connections per host, request bodies without WriteTo to avoid
// aws-sdk-go-v2 #1825/#2737; see internal/testserver).
func NewClient(endpoint string) *kinesis.Client {
	return kinesis.New(kinesis.Options{
		Region:       testserver.Region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDBENCH", "bench-secret", ""),
		HTTPClient:   testserver.NewHTTPClient(),
	})
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func minorFaults() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return int64(ru.Minflt)
}

func maxRSSKiB() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	if runtime.GOOS == "darwin" {
		return int64(ru.Maxrss) / 1024 // bytes there, KiB on Linux
	}
	return int64(ru.Maxrss)
}
