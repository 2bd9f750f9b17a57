// Command esmkitfast is the esmkit-fast contender: contenders/esmkit with
// esm.FastDecode(true), so GetRecords responses are decoded by kinesisfast
// instead of the SDK's standard decoder.
package main

import (
	"github.com/esmkit/esmkit/benchmarks/internal/esmkitrun"
	"github.com/esmkit/esmkit/benchmarks/internal/harness"
	"github.com/esmkit/esmkit/esm"
)

func main() { harness.Main("esmkit-fast", esmkitrun.Start(esm.FastDecode(true))) }
