// Command endpoint runs the benchmark's Kinesis endpoint in its own
// process: it prints its two URLs as one JSON line ({"kinesis": …,
// "control": …}) and serves until its standard input is closed. The runner
// (cmd/bench) starts it; see internal/endpoint for the control API.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/esmkit/esmkit/benchmarks/internal/endpoint"
)

func main() {
	readRate := flag.Int("readrate", 0, "GetRecords calls per shard per second (kinesistest.ShardReadRate); 0: no limit")
	flag.Parse()
	e, err := endpoint.Start(*readRate)
	if err != nil {
		fmt.Fprintln(os.Stderr, "endpoint:", err)
		os.Exit(1)
	}
	line, _ := json.Marshal(e.Addrs)
	fmt.Println(string(line))
	_, _ = io.Copy(io.Discard, os.Stdin) // until the runner closes the pipe
	e.Close()
}
