// Command esmkitsdk is the esmkit-sdk contender: contenders/esmkit with
// esm.FastDecode(false), so GetRecords responses are decoded by the SDK's
// standard decoder instead of kinesisfast.
package main

import (
	"github.com/esmkit/esmkit/benchmarks/internal/esmkitrun"
	"github.com/esmkit/esmkit/benchmarks/internal/harness"
	"github.com/esmkit/esmkit/esm"
)

func main() { harness.Main("esmkit-sdk", esmkitrun.Start(esm.FastDecode(false))) }
