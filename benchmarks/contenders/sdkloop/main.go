// Command sdkloop is the baseline contender: the plain aws-sdk-go-v2 loop
// of internal/sdkloop with no library around it.
package main

import (
	"github.com/esmkit/esmkit/benchmarks/internal/harness"
	"github.com/esmkit/esmkit/benchmarks/internal/sdkloop"
)

func main() { harness.Main("sdk-loop", sdkloop.Start(nil)) }
