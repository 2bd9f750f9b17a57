package kinesisfast_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/smithy-go/middleware"

	"github.com/esmkit/esmkit/kinesisfast"
)

// canned is an HTTP client that answers every request with one fixed
// response, so that benchmarks and differential tests measure decoding
// only, with no network (and none of the loopback race of aws-sdk-go-v2
// issues #1825 and #2737, which needs a real connection).
type canned struct {
	status int
	header http.Header
	body   []byte
}

func (c *canned) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	h := c.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Content-Type", "application/x-amz-json-1.1")
	h.Set("X-Amzn-Requestid", "c0ffee00-0000-4000-8000-000000000000")
	return &http.Response{
		Status:        strconv.Itoa(c.status) + " " + http.StatusText(c.status),
		StatusCode:    c.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(bytes.NewReader(c.body)),
		ContentLength: int64(len(c.body)),
		Request:       req,
	}, nil
}

// newClient returns a client of c with retries off, with the fast decoder
// if fast is set.
func newClient(c *canned, fast bool) *kinesis.Client {
	var optFns []func(*kinesis.Options)
	if fast {
		optFns = append(optFns, kinesisfast.WithDecoder())
	}
	return kinesis.New(kinesis.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String("http://kinesis.invalid"),
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
		HTTPClient:   c,
		Retryer:      aws.NopRetryer{},
	}, optFns...)
}

var input = &kinesis.GetRecordsInput{ShardIterator: aws.String("AAAA"), Limit: aws.Int32(10000)}

// result is what one GetRecords call gave: an output without its metadata,
// an error, or a panic.
type result struct {
	out      *kinesis.GetRecordsOutput
	err      error
	panicked any
}

var middlewareMetadataZero middleware.Metadata

func call(ctx context.Context, client *kinesis.Client) (r result) {
	defer func() { r.panicked = recover() }()
	out, err := client.GetRecords(ctx, input)
	if out != nil {
		out.ResultMetadata = middlewareMetadataZero
	}
	return result{out: out, err: err}
}

// diff describes how got differs from want, or returns "".
func diff(got, want result) string {
	switch {
	case (got.panicked != nil) != (want.panicked != nil):
		return fmt.Sprintf("got panic %v, want panic %v", got.panicked, want.panicked)
	case got.panicked != nil:
		return ""
	case (got.err != nil) != (want.err != nil):
		return fmt.Sprintf("got error %v, want error %v", got.err, want.err)
	case got.err != nil:
		if g, w := got.err.Error(), want.err.Error(); g != w {
			return fmt.Sprintf("got error %q, want %q", g, w)
		}
		if g, w := errTypes(got.err), errTypes(want.err); g != w {
			return fmt.Sprintf("got error types %s, want %s", g, w)
		}
		return ""
	}
	if !reflect.DeepEqual(got.out, want.out) {
		return fmt.Sprintf("got %s\nwant %s", dump(got.out), dump(want.out))
	}
	return ""
}

// errTypes lists the dynamic types along err's Unwrap chain.
func errTypes(err error) string {
	var b strings.Builder
	for ; err != nil; err = errors.Unwrap(err) {
		fmt.Fprintf(&b, "%T/", err)
	}
	return b.String()
}

func dump(out *kinesis.GetRecordsOutput) string {
	if out == nil {
		return "<nil>"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "{Next:%s Millis:%v Child:%+v Records(%d, nil=%v):", str(out.NextShardIterator), ptrVal(out.MillisBehindLatest), out.ChildShards, len(out.Records), out.Records == nil)
	for _, r := range out.Records {
		ts := "<nil>"
		if r.ApproximateArrivalTimestamp != nil {
			ts = r.ApproximateArrivalTimestamp.String()
		}
		fmt.Fprintf(&b, "\n  {Seq:%s Key:%s Time:%s Enc:%q Data(%d, nil=%v):%.40q}", str(r.SequenceNumber), str(r.PartitionKey), ts, r.EncryptionType, len(r.Data), r.Data == nil, r.Data)
	}
	return b.String() + "}"
}

func str(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return strconv.Quote(*s)
}

func ptrVal[T any](p *T) any {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// gen writes GetRecords bodies from random records, with the variety the
// service and the SDK allow: escapes and raw UTF-8 (valid or not) in
// strings, empty and large Data, missing and null members, timestamps in
// integer, fraction and exponent form, unknown members, random whitespace,
// and optionally ChildShards.
type gen struct {
	rng   *rand.Rand
	size  func(*rand.Rand) int // Data size
	child bool                 // may add ChildShards
	odd   bool                 // nulls, unknown members, escapes, whitespace

	lastTime string
}

func (g *gen) body(n int) []byte {
	var b bytes.Buffer
	b.WriteString("{")
	g.ws(&b)
	b.WriteString(`"Records":`)
	g.ws(&b)
	b.WriteString("[")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		g.ws(&b)
		g.record(&b, i)
	}
	b.WriteString("]")
	if !g.odd || g.rng.IntN(8) > 0 {
		fmt.Fprintf(&b, `,"NextShardIterator":%s`, g.str("AAAAAAAAAAH"+strconv.Itoa(g.rng.IntN(1e9))))
	}
	if !g.odd || g.rng.IntN(8) > 0 {
		fmt.Fprintf(&b, `,"MillisBehindLatest":%d`, g.rng.Int64N(1e7))
	}
	if g.child && g.rng.IntN(4) == 0 {
		b.WriteString(`,"ChildShards":[{"ShardId":"shardId-000000000002","ParentShards":["shardId-000000000000"],"HashKeyRange":{"StartingHashKey":"0","EndingHashKey":"17014118346046923173168730371588410572"}}]`)
	}
	if g.odd && g.rng.IntN(4) == 0 {
		b.WriteString(`,"Unknown":{"a":[1,-2.5e3,true,false,null,"x\"y"],"b":{}}`)
	}
	g.ws(&b)
	b.WriteString("}")
	return b.Bytes()
}

func (g *gen) ws(b *bytes.Buffer) {
	if g.odd && g.rng.IntN(4) == 0 {
		b.WriteString([]string{" ", "\n", "\t", "\r\n  "}[g.rng.IntN(4)])
	}
}

func (g *gen) record(b *bytes.Buffer, i int) {
	if g.odd && g.rng.IntN(50) == 0 {
		b.WriteString("null")
		return
	}
	data := make([]byte, g.size(g.rng))
	for j := range data {
		data[j] = byte(g.rng.Uint32())
	}
	fields := []string{
		`"SequenceNumber":` + g.str(fmt.Sprintf("4959%052d", i)),
		`"ApproximateArrivalTimestamp":` + g.time(),
		`"Data":"` + base64.StdEncoding.EncodeToString(data) + `"`,
		`"PartitionKey":` + g.str(g.key()),
	}
	if g.rng.IntN(2) == 0 {
		fields = append(fields, `"EncryptionType":`+g.str([]string{"NONE", "KMS", "", "OTHER"}[g.rng.IntN(4)]))
	}
	if g.odd {
		g.rng.Shuffle(len(fields), func(i, j int) { fields[i], fields[j] = fields[j], fields[i] })
		switch g.rng.IntN(8) {
		case 0: // a missing member
			fields = fields[1:]
		case 1: // a null member
			k, _, _ := strings.Cut(fields[0], ":")
			fields[0] = k + ":null"
		case 2:
			fields = append(fields, `"Extra":[{"nested":["deep",{"x":1}]}]`)
		}
	}
	b.WriteString("{")
	for j, f := range fields {
		if j > 0 {
			b.WriteString(",")
			g.ws(b)
		}
		b.WriteString(f)
	}
	b.WriteString("}")
}

func (g *gen) time() string {
	// Records put together share their arrival time: half repeat the last.
	if g.lastTime != "" && g.rng.IntN(2) == 0 {
		return g.lastTime
	}
	g.lastTime = g.newTime()
	return g.lastTime
}

func (g *gen) newTime() string {
	ms := 1_700_000_000_000 + g.rng.Int64N(1e11)
	if !g.odd {
		return fmt.Sprintf("%d.%03dE9", ms/1e12, ms%1e12) // as the service writes it: 1.700000000123E9
	}
	switch g.rng.IntN(7) {
	case 0:
		return strconv.FormatInt(ms/1000, 10)
	case 1:
		return strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)
	case 2:
		return strconv.FormatFloat(float64(ms)/1000, 'e', -1, 64)
	case 3:
		return fmt.Sprintf("%de-3", ms)
	case 4:
		return []string{"0", "-0", "0.0001", "-1.5", "1e2", "9.99999999999999e14", "1.2345678901234567890123"}[g.rng.IntN(7)]
	case 5:
		return strconv.FormatFloat(g.rng.Float64()*1e12, 'g', -1, 64)
	}
	return fmt.Sprintf("%d.%03dE9", ms/1e12, ms%1e12)
}

func (g *gen) key() string {
	if !g.odd {
		return "key-" + strconv.Itoa(g.rng.IntN(1000))
	}
	parts := []string{"k", "é", "日本", "😀", "\x7f", "\xff", "\xed\xa0\x80", "\"", "\\", "/", "\n", "\t", "\x00", "\u2028", "\ufffd"}
	var s strings.Builder
	for range g.rng.IntN(6) {
		s.WriteString(parts[g.rng.IntN(len(parts))])
	}
	return s.String()
}

// str writes s as a JSON string, escaping what must be escaped and, in odd
// mode, sometimes more (\u escapes, surrogate pairs, lone surrogates, \/).
func (g *gen) str(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			fmt.Fprintf(&b, `\u%04x`, c)
		case g.odd && g.rng.IntN(10) == 0:
			switch g.rng.IntN(4) {
			case 0:
				fmt.Fprintf(&b, `\u%04X`, c)
			case 1:
				b.WriteString(`\ud83d\ude00`)
				b.WriteByte(c)
			case 2:
				b.WriteString(`\udc00`)
				b.WriteByte(c)
			default:
				b.WriteString(`\/`)
				b.WriteByte(c)
			}
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
