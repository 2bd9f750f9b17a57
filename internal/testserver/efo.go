package testserver

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/smithy-go/eventstream"
)

// InitialResponseShim is an option for [KinesisClient] (or any
// kinesis.Options) that lets aws-sdk-go-v2 read SubscribeToShard streams
// from kinesis-local:
//
//	client := testserver.KinesisClient(t, testserver.KinesisMock(t), testserver.InitialResponseShim)
//
// kinesis-local streams SubscribeToShard events but never sends the
// initial-response event that the SDK's awsJson 1.1 protocol reads first,
// so without help every call fails with "deserialize initial response:
// expected initial-response, got SubscribeToShardEvent". The shim wraps the
// client's HTTPClient: for a successful SubscribeToShard response it reads
// the first event-stream message and, unless that is an initial-response,
// puts a synthetic one (payload {}) in front of it. Every other response
// passes through untouched. It uses only the public event-stream codec, no
// SDK internals. Use it only against kinesis-local; real Kinesis sends the
// event.
func InitialResponseShim(o *kinesis.Options) {
	o.HTTPClient = initialResponseShim{next: o.HTTPClient}
}

type initialResponseShim struct {
	next kinesis.HTTPClient
}

const subscribeTarget = "Kinesis_20131202.SubscribeToShard"

func (s initialResponseShim) Do(req *http.Request) (*http.Response, error) {
	next := s.next
	if next == nil {
		next = http.DefaultClient
	}
	resp, err := next.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK || req.Header.Get("X-Amz-Target") != subscribeTarget ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "application/vnd.amazon.eventstream") {
		return resp, err
	}
	// Read the first message as raw bytes while decoding it, so it can be
	// passed on unchanged.
	var first bytes.Buffer
	msg, err := eventstream.NewDecoder().Decode(io.TeeReader(resp.Body, &first), nil)
	if err != nil {
		_ = resp.Body.Close()
		return nil, fmt.Errorf("testserver: reading the first SubscribeToShard event: %w", err)
	}
	var prefix bytes.Buffer
	if t := msg.Headers.Get(eventstream.EventTypeHeader); t == nil || t.String() != "initial-response" {
		var initial eventstream.Message
		initial.Headers.Set(eventstream.MessageTypeHeader, eventstream.StringValue(eventstream.EventMessageType))
		initial.Headers.Set(eventstream.EventTypeHeader, eventstream.StringValue("initial-response"))
		initial.Headers.Set(eventstream.ContentTypeHeader, eventstream.StringValue("application/json"))
		initial.Payload = []byte("{}")
		if err := eventstream.NewEncoder().Encode(&prefix, initial); err != nil {
			_ = resp.Body.Close()
			return nil, err
		}
	}
	resp.Body = prefixedBody{Reader: io.MultiReader(&prefix, &first, resp.Body), Closer: resp.Body}
	return resp, nil
}

type prefixedBody struct {
	io.Reader
	io.Closer
}
