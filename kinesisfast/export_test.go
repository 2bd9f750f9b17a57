package kinesisfast

import "github.com/aws/aws-sdk-go-v2/service/kinesis"

// DecodeFast runs the fast decoder alone; ok is false where the middleware
// would hand body to the SDK.
func DecodeFast(body []byte, ev *EventPage) (out *kinesis.GetRecordsOutput, ok bool) {
	var t tape
	t.reset(body)
	if !t.parse() {
		return nil, false
	}
	return t.build(ev)
}

// DecodeBase64 is the page decoder's base64 loop.
func DecodeBase64(dst, src []byte) (int, error) { return decodeBase64(dst, src) }

// DecodeSlots bounds the responses read and decoded at once.
var DecodeSlots = decodeSlots
