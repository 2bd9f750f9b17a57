//go:build goexperiment.jsonv2

package event

// invalidByteSize is the size of one invalid UTF-8 byte in an encoding/json
// string: built on encoding/json/v2 (GOEXPERIMENT=jsonv2), the encoder writes
// U+FFFD itself rather than the escape \ufffd.
const invalidByteSize = len("\uFFFD")
