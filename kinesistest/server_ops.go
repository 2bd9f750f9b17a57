package kinesistest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// serverOps maps an operation name, the part of X-Amz-Target after
// "Kinesis_20131202.", to its server. Requests are decoded with
// encoding/json into the SDK's input structs (whose field names are the
// wire names), or into a wire struct where a timestamp needs epoch seconds;
// responses are encoded from wire structs, except GetRecords's, which is
// hand-written for speed (server_json.go).
//
// Enhanced fan-out goes here too: RegisterStreamConsumer,
// DescribeStreamConsumer, ListStreamConsumers and DeregisterStreamConsumer
// are plain JSON operations, served with jsonOp once the Client has them.
// SubscribeToShard answers with an event stream (content type
// application/vnd.amazon.eventstream, an initial-response event and then
// SubscribeToShardEvent messages); aws-sdk-go-v2 reads it over HTTP/1.1 as
// a streamed response, so it can be served from this table too, by a
// serverOp variant that writes and flushes to the http.ResponseWriter.
var serverOps = map[string]serverOp{
	"CreateStream":          jsonOp(decodeAs[kinesis.CreateStreamInput], (*Client).CreateStream, emptyOutput[kinesis.CreateStreamOutput]),
	"DeleteStream":          jsonOp(decodeAs[kinesis.DeleteStreamInput], (*Client).DeleteStream, emptyOutput[kinesis.DeleteStreamOutput]),
	"DescribeStream":        jsonOp(decodeAs[kinesis.DescribeStreamInput], (*Client).DescribeStream, wireDescribeStream),
	"DescribeStreamSummary": jsonOp(decodeAs[kinesis.DescribeStreamSummaryInput], (*Client).DescribeStreamSummary, wireDescribeStreamSummary),
	"ListShards":            jsonOp(decodeListShards, (*Client).ListShards, wireListShards),
	"ListStreams":           jsonOp(decodeAs[kinesis.ListStreamsInput], (*Client).listStreams, wireListStreams),
	"PutRecord":             jsonOp(decodeAs[kinesis.PutRecordInput], (*Client).PutRecord, wirePutRecord),
	"PutRecords":            jsonOp(decodeAs[kinesis.PutRecordsInput], (*Client).PutRecords, wirePutRecords),
	"GetShardIterator":      jsonOp(decodeGetShardIterator, (*Client).GetShardIterator, wireGetShardIterator),
	"GetRecords":            serveGetRecords,
	"SplitShard":            jsonOp(decodeAs[kinesis.SplitShardInput], (*Client).SplitShard, emptyOutput[kinesis.SplitShardOutput]),
	"MergeShards":           jsonOp(decodeAs[kinesis.MergeShardsInput], (*Client).MergeShards, emptyOutput[kinesis.MergeShardsOutput]),
	"UpdateMaxRecordSize":   jsonOp(decodeAs[kinesis.UpdateMaxRecordSizeInput], (*Client).UpdateMaxRecordSize, emptyOutput[kinesis.UpdateMaxRecordSizeOutput]),
}

// serveGetRecords is GetRecords without reflection on the way out: the
// response, mostly base64, is appended straight to buf.
func serveGetRecords(ctx context.Context, c *Client, body, buf []byte) ([]byte, error) {
	var in kinesis.GetRecordsInput
	if err := decodeJSON(body, &in); err != nil {
		return nil, err
	}
	out, err := c.GetRecords(ctx, &in)
	if err != nil {
		return nil, err
	}
	return appendGetRecords(buf, out), nil
}

// jsonOp makes a serverOp of a Client method: decode the body, call,
// encode the wire form of the output with encoding/json.
func jsonOp[In, Out any](
	decode func([]byte) (*In, error),
	call func(*Client, context.Context, *In, ...func(*kinesis.Options)) (*Out, error),
	wire func(*Out) any,
) serverOp {
	return func(ctx context.Context, c *Client, body, buf []byte) ([]byte, error) {
		in, err := decode(body)
		if err != nil {
			return nil, err
		}
		out, err := call(c, ctx, in)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(wire(out))
		if err != nil {
			return nil, err // a bug: wire types always marshal
		}
		return append(buf, b...), nil
	}
}

// decodeJSON decodes a request body into v. An empty body counts as {}.
// Field names match case-insensitively (encoding/json's rule; AWS's are
// exact), and unknown fields are ignored, as AWS ignores them.
func decodeJSON(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		// Say what is wrong in the request's terms, not in Go's.
		msg := "Malformed request body: " + err.Error()
		var typeErr *json.UnmarshalTypeError
		var syntaxErr *json.SyntaxError
		switch {
		case errors.As(err, &typeErr):
			msg = fmt.Sprintf("Unexpected JSON %s for member %s at offset %d.", typeErr.Value, typeErr.Field, typeErr.Offset)
		case errors.As(err, &syntaxErr):
			msg = fmt.Sprintf("Malformed JSON at offset %d: %v.", syntaxErr.Offset, syntaxErr)
		}
		return protocolError(http.StatusBadRequest, "SerializationException", msg)
	}
	return nil
}

func decodeAs[In any](body []byte) (*In, error) {
	in := new(In)
	return in, decodeJSON(body, in)
}

func emptyOutput[Out any](*Out) any { return struct{}{} }

// Requests with timestamps shadow the SDK's *time.Time fields with
// epochTime ones: encoding/json prefers the shallower field.

func decodeGetShardIterator(body []byte) (*kinesis.GetShardIteratorInput, error) {
	var w struct {
		kinesis.GetShardIteratorInput
		Timestamp *epochTime
	}
	if err := decodeJSON(body, &w); err != nil {
		return nil, err
	}
	w.GetShardIteratorInput.Timestamp = (*time.Time)(w.Timestamp)
	return &w.GetShardIteratorInput, nil
}

func decodeListShards(body []byte) (*kinesis.ListShardsInput, error) {
	var w struct {
		kinesis.ListShardsInput
		StreamCreationTimestamp *epochTime
		ShardFilter             *struct {
			types.ShardFilter
			Timestamp *epochTime
		}
	}
	if err := decodeJSON(body, &w); err != nil {
		return nil, err
	}
	in := &w.ListShardsInput
	in.StreamCreationTimestamp = (*time.Time)(w.StreamCreationTimestamp)
	if f := w.ShardFilter; f != nil {
		f.ShardFilter.Timestamp = (*time.Time)(f.Timestamp)
		in.ShardFilter = &f.ShardFilter
	}
	return in, nil
}

// Wire forms of outputs: the AWS member names, absent members omitted,
// timestamps as epoch seconds.

type (
	wireStreamModeDetails struct {
		StreamMode types.StreamMode
	}
	wireEnhancedMetrics struct {
		ShardLevelMetrics []types.MetricsName
	}
	wireHashKeyRange struct {
		StartingHashKey *string `json:",omitempty"`
		EndingHashKey   *string `json:",omitempty"`
	}
	wireSequenceNumberRange struct {
		StartingSequenceNumber *string `json:",omitempty"`
		EndingSequenceNumber   *string `json:",omitempty"`
	}
	wireShard struct {
		ShardID               *string                  `json:"ShardId,omitempty"`
		ParentShardID         *string                  `json:"ParentShardId,omitempty"`
		AdjacentParentShardID *string                  `json:"AdjacentParentShardId,omitempty"`
		HashKeyRange          *wireHashKeyRange        `json:",omitempty"`
		SequenceNumberRange   *wireSequenceNumberRange `json:",omitempty"`
	}
	wireWarmThroughput struct {
		TargetMiBps  *int32 `json:",omitempty"`
		CurrentMiBps *int32 `json:",omitempty"`
	}
)

func wireMode(m *types.StreamModeDetails) *wireStreamModeDetails {
	if m == nil {
		return nil
	}
	return &wireStreamModeDetails{StreamMode: m.StreamMode}
}

func wireMonitoring(ms []types.EnhancedMetrics) []wireEnhancedMetrics {
	if ms == nil {
		return nil
	}
	out := make([]wireEnhancedMetrics, len(ms))
	for i, m := range ms {
		out[i].ShardLevelMetrics = m.ShardLevelMetrics
		if m.ShardLevelMetrics == nil {
			out[i].ShardLevelMetrics = []types.MetricsName{}
		}
	}
	return out
}

func wireShards(ss []types.Shard) []wireShard {
	out := make([]wireShard, len(ss)) // [] rather than null when empty
	for i, s := range ss {
		out[i] = wireShard{ShardID: s.ShardId, ParentShardID: s.ParentShardId, AdjacentParentShardID: s.AdjacentParentShardId}
		if r := s.HashKeyRange; r != nil {
			out[i].HashKeyRange = &wireHashKeyRange{StartingHashKey: r.StartingHashKey, EndingHashKey: r.EndingHashKey}
		}
		if r := s.SequenceNumberRange; r != nil {
			out[i].SequenceNumberRange = &wireSequenceNumberRange{StartingSequenceNumber: r.StartingSequenceNumber, EndingSequenceNumber: r.EndingSequenceNumber}
		}
	}
	return out
}

func wireTime(t *time.Time) *epochTime { return (*epochTime)(t) }

func wireDescribeStream(out *kinesis.DescribeStreamOutput) any {
	d := out.StreamDescription
	if d == nil {
		return struct{}{}
	}
	type description struct {
		StreamName              *string                `json:",omitempty"`
		StreamARN               *string                `json:",omitempty"`
		StreamStatus            types.StreamStatus     `json:",omitempty"`
		StreamModeDetails       *wireStreamModeDetails `json:",omitempty"`
		Shards                  []wireShard
		HasMoreShards           *bool                 `json:",omitempty"`
		RetentionPeriodHours    *int32                `json:",omitempty"`
		StreamCreationTimestamp *epochTime            `json:",omitempty"`
		EnhancedMonitoring      []wireEnhancedMetrics `json:",omitempty"`
		EncryptionType          types.EncryptionType  `json:",omitempty"`
		KeyID                   *string               `json:"KeyId,omitempty"`
	}
	return struct{ StreamDescription description }{description{
		StreamName:              d.StreamName,
		StreamARN:               d.StreamARN,
		StreamStatus:            d.StreamStatus,
		StreamModeDetails:       wireMode(d.StreamModeDetails),
		Shards:                  wireShards(d.Shards),
		HasMoreShards:           d.HasMoreShards,
		RetentionPeriodHours:    d.RetentionPeriodHours,
		StreamCreationTimestamp: wireTime(d.StreamCreationTimestamp),
		EnhancedMonitoring:      wireMonitoring(d.EnhancedMonitoring),
		EncryptionType:          d.EncryptionType,
		KeyID:                   d.KeyId,
	}}
}

func wireDescribeStreamSummary(out *kinesis.DescribeStreamSummaryOutput) any {
	d := out.StreamDescriptionSummary
	if d == nil {
		return struct{}{}
	}
	type summary struct {
		StreamName                 *string                          `json:",omitempty"`
		StreamARN                  *string                          `json:",omitempty"`
		StreamID                   *string                          `json:"StreamId,omitempty"`
		StreamStatus               types.StreamStatus               `json:",omitempty"`
		StreamModeDetails          *wireStreamModeDetails           `json:",omitempty"`
		RetentionPeriodHours       *int32                           `json:",omitempty"`
		StreamCreationTimestamp    *epochTime                       `json:",omitempty"`
		EnhancedMonitoring         []wireEnhancedMetrics            `json:",omitempty"`
		EncryptionType             types.EncryptionType             `json:",omitempty"`
		KeyID                      *string                          `json:"KeyId,omitempty"`
		OpenShardCount             *int32                           `json:",omitempty"`
		ConsumerCount              *int32                           `json:",omitempty"`
		MaxRecordSizeInKiB         *int32                           `json:",omitempty"`
		WarmThroughput             *wireWarmThroughput              `json:",omitempty"`
		ChannelCount               *int32                           `json:",omitempty"`
		RecordDistributionStrategy types.RecordDistributionStrategy `json:",omitempty"`
	}
	s := summary{
		StreamName:                 d.StreamName,
		StreamARN:                  d.StreamARN,
		StreamID:                   d.StreamId,
		StreamStatus:               d.StreamStatus,
		StreamModeDetails:          wireMode(d.StreamModeDetails),
		RetentionPeriodHours:       d.RetentionPeriodHours,
		StreamCreationTimestamp:    wireTime(d.StreamCreationTimestamp),
		EnhancedMonitoring:         wireMonitoring(d.EnhancedMonitoring),
		EncryptionType:             d.EncryptionType,
		KeyID:                      d.KeyId,
		OpenShardCount:             d.OpenShardCount,
		ConsumerCount:              d.ConsumerCount,
		MaxRecordSizeInKiB:         d.MaxRecordSizeInKiB,
		ChannelCount:               d.ChannelCount,
		RecordDistributionStrategy: d.RecordDistributionStrategy,
	}
	if w := d.WarmThroughput; w != nil {
		s.WarmThroughput = &wireWarmThroughput{TargetMiBps: w.TargetMiBps, CurrentMiBps: w.CurrentMiBps}
	}
	return struct{ StreamDescriptionSummary summary }{s}
}

func wireListShards(out *kinesis.ListShardsOutput) any {
	return struct {
		Shards    []wireShard
		NextToken *string `json:",omitempty"`
	}{wireShards(out.Shards), out.NextToken}
}

func wirePutRecord(out *kinesis.PutRecordOutput) any {
	return struct {
		ShardID        *string              `json:"ShardId,omitempty"`
		SequenceNumber *string              `json:",omitempty"`
		EncryptionType types.EncryptionType `json:",omitempty"`
	}{out.ShardId, out.SequenceNumber, out.EncryptionType}
}

func wirePutRecords(out *kinesis.PutRecordsOutput) any {
	type result struct {
		SequenceNumber *string `json:",omitempty"`
		ShardID        *string `json:"ShardId,omitempty"`
		ErrorCode      *string `json:",omitempty"`
		ErrorMessage   *string `json:",omitempty"`
	}
	rs := make([]result, len(out.Records))
	for i, r := range out.Records {
		rs[i] = result{r.SequenceNumber, r.ShardId, r.ErrorCode, r.ErrorMessage}
	}
	return struct {
		FailedRecordCount *int32 `json:",omitempty"`
		Records           []result
		EncryptionType    types.EncryptionType `json:",omitempty"`
	}{out.FailedRecordCount, rs, out.EncryptionType}
}

func wireGetShardIterator(out *kinesis.GetShardIteratorOutput) any {
	return struct {
		ShardIterator *string `json:",omitempty"`
	}{out.ShardIterator}
}

func wireListStreams(out *kinesis.ListStreamsOutput) any {
	type summary struct {
		StreamName              *string                `json:",omitempty"`
		StreamARN               *string                `json:",omitempty"`
		StreamStatus            types.StreamStatus     `json:",omitempty"`
		StreamModeDetails       *wireStreamModeDetails `json:",omitempty"`
		StreamCreationTimestamp *epochTime             `json:",omitempty"`
	}
	ss := make([]summary, len(out.StreamSummaries))
	for i, s := range out.StreamSummaries {
		ss[i] = summary{s.StreamName, s.StreamARN, s.StreamStatus, wireMode(s.StreamModeDetails), wireTime(s.StreamCreationTimestamp)}
	}
	names := out.StreamNames
	if names == nil {
		names = []string{}
	}
	return struct {
		StreamNames     []string
		HasMoreStreams  *bool   `json:",omitempty"`
		NextToken       *string `json:",omitempty"`
		StreamSummaries []summary
	}{names, out.HasMoreStreams, out.NextToken, ss}
}

const (
	defaultListStreams = 100
	maxListStreams     = 10000
)

// listStreams serves ListStreams: stream names in lexical order, Limit
// (1–10000, default 100) at a time. ExclusiveStartStreamName and
// NextToken (the last name returned, opaque to callers) say where to
// resume and cannot be combined. It has the signature of a Client method
// so that jsonOp can serve it, but it is neither counted by Calls nor
// subject to Inject, which know only the operations of the op table.
func (c *Client) listStreams(ctx context.Context, in *kinesis.ListStreamsInput, _ ...func(*kinesis.Options)) (*kinesis.ListStreamsOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	limit := defaultListStreams
	if in.Limit != nil {
		limit = int(*in.Limit)
		if limit < 1 || limit > maxListStreams {
			return nil, invalidArg("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value between 1 and %d", limit, maxListStreams)
		}
	}
	after := deref(in.ExclusiveStartStreamName)
	if in.NextToken != nil {
		if in.ExclusiveStartStreamName != nil {
			return nil, invalidArg("NextToken and ExclusiveStartStreamName cannot be provided together.")
		}
		raw, err := base64.RawURLEncoding.DecodeString(*in.NextToken)
		name, ok := strings.CutPrefix(string(raw), "streams|")
		if err != nil || !ok {
			return nil, invalidArg("Invalid NextToken.")
		}
		after = name
	}

	c.mu.RLock()
	defer c.mu.RUnlock()
	names := make([]string, 0, len(c.byName))
	for n := range c.byName {
		if n > after {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	more := len(names) > limit
	names = names[:min(len(names), limit)]
	out := &kinesis.ListStreamsOutput{StreamNames: names, HasMoreStreams: ptr(more)}
	for _, n := range names {
		s := c.byName[n]
		out.StreamSummaries = append(out.StreamSummaries, types.StreamSummary{
			StreamName:              ptr(s.name),
			StreamARN:               ptr(s.arn),
			StreamStatus:            types.StreamStatusActive,
			StreamModeDetails:       &types.StreamModeDetails{StreamMode: s.mode},
			StreamCreationTimestamp: ptr(s.created),
		})
	}
	if more {
		out.NextToken = ptr(base64.RawURLEncoding.EncodeToString([]byte("streams|" + names[len(names)-1])))
	}
	return out, nil
}
