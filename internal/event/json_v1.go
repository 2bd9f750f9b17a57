//go:build !goexperiment.jsonv2

package event

// invalidByteSize is the size of one invalid UTF-8 byte in an encoding/json
// string: the classic encoder writes the escape \ufffd.
const invalidByteSize = len(`\ufffd`)
