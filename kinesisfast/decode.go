package kinesisfast

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// The decoder works in two passes over the body.
//
// Pass 1 (parse) checks the JSON and the shape, and records where each
// field's bytes are (a tape): nothing is allocated except pooled state.
// Pass 2 (build) allocates exactly sized memory once per page and fills it.
//
// The decoder is deliberately stricter than the SDK's: whenever it meets
// anything it does not handle exactly as the SDK does (an escaped key, a
// duplicate Records member, ChildShards, a timestamp given as a string, a
// number out of range, trailing bytes, nesting deeper than maxDepth…), it
// reports !ok and the caller hands the same bytes to the SDK's own decoder.
// So a body is either decoded here to the value the SDK would produce, or
// decoded (or refused) by the SDK itself. FuzzDecode checks the first half.

// maxDepth bounds nesting in skipped unknown members; deeper bodies go to
// the SDK, which allows 10,000.
const maxDepth = 64

// maxEpochSeconds bounds timestamps handled here: below it, float64
// multiplication and truncation give exactly what smithy-go's
// ParseEpochSeconds computes with big.Float (53-bit, round to nearest even,
// truncate), because no product overflows or leaves int64.
const maxEpochSeconds = 1e15

// span is a range of the body, or of the scratch buffer for strings that
// had escapes (unquoted there in pass 1).
type span struct {
	off, end int32
	scratch  bool
}

func (s span) len() int { return int(s.end - s.off) }

// Presence bits of a tapeRecord. A missing and a null member are both
// absent, as in the SDK.
const (
	hasSeq uint8 = 1 << iota
	hasKey
	hasData
	hasTime
	hasEnc
)

// tapeRecord is one record as found by pass 1.
type tapeRecord struct {
	seq, key, data, enc span
	nanos               int64 // UnixNano of ApproximateArrivalTimestamp
	dataLen             int32 // decoded length of data
	has                 uint8
}

// tape is the result of pass 1, and the pooled state of one decode.
type tape struct {
	body    []byte
	scratch []byte // unquoted escaped strings
	recs    []tapeRecord

	hasRecords bool // Records present and not null
	hasNext    bool
	hasMillis  bool
	next       span
	millis     int64

	dataTotal int // bytes of decoded Data
	strTotal  int // bytes of strings
}

func (t *tape) reset(body []byte) {
	*t = tape{body: body, scratch: t.scratch[:0], recs: t.recs[:0]}
}

// bytesOf returns the bytes of s.
func (t *tape) bytesOf(s span) []byte {
	if s.scratch {
		return t.scratch[s.off:s.end]
	}
	return t.body[s.off:s.end]
}

// parse runs pass 1 over t.body. It reports false for anything the decoder
// leaves to the SDK, valid or not.
func (t *tape) parse() bool {
	if len(t.body) > 1<<31-1 {
		return false
	}
	p := parser{t: t, b: t.body}
	if !p.object(top) {
		return false
	}
	p.ws()
	return p.i == len(p.b) // the SDK ignores trailing bytes; leave them to it
}

type parser struct {
	t   *tape
	b   []byte
	i   int
	rec *tapeRecord // record being parsed

	// The last ApproximateArrivalTimestamp token converted, and its value.
	timeTok   []byte
	timeNanos int64
	hasTime   bool
}

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// peek skips whitespace and returns the next byte, or 0 at the end.
func (p *parser) peek() byte {
	p.ws()
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

// Kinds of object for parser.object.
const (
	top    = iota // the GetRecords output
	record        // a Record
)

// object parses {"key": value, …} of the given kind, calling topMember or
// recordMember for each key with p.i at the value. Keys with escapes are
// refused. (A kind rather than a func value: a method value would be
// allocated once per record.)
func (p *parser) object(kind int) bool {
	if p.peek() != '{' {
		return false
	}
	p.i++
	if p.peek() == '}' {
		p.i++
		return true
	}
	for {
		if p.peek() != '"' {
			return false
		}
		start, end, esc, ok := p.str()
		if !ok || esc {
			return false
		}
		if p.peek() != ':' {
			return false
		}
		p.i++
		p.ws()
		key := p.b[start:end]
		if kind == top && !p.topMember(key) || kind == record && !p.recordMember(key) {
			return false
		}
		switch p.peek() {
		case ',':
			p.i++
		case '}':
			p.i++
			return true
		default:
			return false
		}
	}
}

// null consumes a null literal if one is next.
func (p *parser) null() bool {
	if p.i+4 <= len(p.b) && string(p.b[p.i:p.i+4]) == "null" {
		p.i += 4
		return true
	}
	return false
}

func (p *parser) topMember(key []byte) bool {
	if p.null() {
		return true // the SDK skips null members
	}
	t := p.t
	switch string(key) {
	case "Records":
		if t.hasRecords { // the SDK keeps the last list; rare enough to leave to it
			return false
		}
		t.hasRecords = true
		return p.records()
	case "NextShardIterator":
		s, ok := p.stringValue()
		t.next, t.hasNext = s, true
		return ok
	case "MillisBehindLatest":
		start, end, ok := p.number()
		if !ok {
			return false
		}
		n, ok := parseInt(p.b[start:end])
		t.millis, t.hasMillis = n, true
		return ok
	case "ChildShards":
		return false // once per shard: the SDK decodes it
	}
	return p.skip(0)
}

func (p *parser) records() bool {
	if p.peek() != '[' {
		return false
	}
	p.i++
	if p.peek() == ']' {
		p.i++
		return true
	}
	for {
		p.t.recs = append(p.t.recs, tapeRecord{})
		p.rec = &p.t.recs[len(p.t.recs)-1]
		if p.peek() == 'n' {
			if !p.null() { // a null record is a zero Record in the SDK
				return false
			}
		} else if !p.object(record) {
			return false
		}
		switch p.peek() {
		case ',':
			p.i++
		case ']':
			p.i++
			return true
		default:
			return false
		}
	}
}

func (p *parser) recordMember(key []byte) bool {
	if p.null() {
		return true
	}
	r := p.rec
	switch string(key) {
	case "Data":
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return false
		}
		// The end is the next quote: if the string had escapes, base64
		// decoding fails in pass 2 and the body goes to the SDK.
		start := p.i + 1
		n := bytes.IndexByte(p.b[start:], '"')
		if n < 0 || n%4 != 0 {
			return false
		}
		p.i = start + n + 1
		dlen := n / 4 * 3
		if n > 0 && p.b[start+n-1] == '=' {
			dlen--
			if p.b[start+n-2] == '=' {
				dlen--
			}
		}
		if r.has&hasData != 0 {
			p.t.dataTotal -= int(r.dataLen)
		}
		r.data, r.dataLen = span{off: int32(start), end: int32(start + n)}, int32(dlen)
		r.has |= hasData
		p.t.dataTotal += dlen
		return true
	case "SequenceNumber":
		return p.recordString(&r.seq, hasSeq)
	case "PartitionKey":
		return p.recordString(&r.key, hasKey)
	case "EncryptionType":
		return p.recordString(&r.enc, hasEnc)
	case "ApproximateArrivalTimestamp":
		start, end, ok := p.number()
		if !ok {
			return false
		}
		// Records read together mostly share their arrival time (it has
		// milliseconds), and converting it is costlier than comparing.
		if tok := p.b[start:end]; !p.hasTime || !bytes.Equal(tok, p.timeTok) {
			nanos, ok := epochNanos(tok)
			if !ok {
				return false
			}
			p.timeTok, p.timeNanos, p.hasTime = tok, nanos, true
		}
		r.nanos = p.timeNanos
		r.has |= hasTime
		return true
	}
	return p.skip(0)
}

// recordString reads a string member of the current record. A repeated
// member replaces the earlier one, as in the SDK.
func (p *parser) recordString(dst *span, bit uint8) bool {
	s, ok := p.stringValue()
	if !ok {
		return false
	}
	if p.rec.has&bit != 0 && !isInterned(p.t, bit, *dst) {
		p.t.strTotal -= dst.len()
	}
	*dst = s
	p.rec.has |= bit
	if !isInterned(p.t, bit, s) {
		p.t.strTotal += s.len()
	}
	return true
}

// isInterned reports whether an EncryptionType value needs no arena bytes.
func isInterned(t *tape, bit uint8, s span) bool {
	return bit == hasEnc && intern(t.bytesOf(s)) != ""
}

// intern returns the constant equal to b, if it is a known EncryptionType.
func intern(b []byte) types.EncryptionType {
	switch string(b) {
	case "NONE":
		return types.EncryptionTypeNone
	case "KMS":
		return types.EncryptionTypeKms
	}
	return ""
}

// stringValue reads a string value; one with escapes is unquoted into the
// scratch buffer as the SDK unquotes it.
func (p *parser) stringValue() (span, bool) {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return span{}, false
	}
	start, end, esc, ok := p.str()
	if !ok {
		return span{}, false
	}
	if !esc {
		return span{off: int32(start), end: int32(end)}, true
	}
	off := len(p.t.scratch)
	p.t.scratch = unquote(p.t.scratch, p.b[start:end])
	if len(p.t.scratch) > 1<<31-1 {
		return span{}, false
	}
	return span{off: int32(off), end: int32(len(p.t.scratch)), scratch: true}, true
}

// SWAR helpers: bytes of v equal to c, or less than n (may over-report
// above 0x80; callers re-check byte by byte).
const (
	lo = uint64(0x0101010101010101)
	hi = uint64(0x8080808080808080)
)

func hasValue(v uint64, c byte) uint64 { x := v ^ (lo * uint64(c)); return (x - lo) &^ x & hi }
func hasLess(v uint64, n byte) uint64  { return (v - lo*uint64(n)) &^ v & hi }

// str scans the string at p.i with the SDK scanner's rules: no control
// characters, only the escapes \" \\ \/ \b \f \n \r \t \uXXXX; any other
// byte, valid UTF-8 or not, is taken as is. It returns the contents'
// bounds and whether there was an escape.
func (p *parser) str() (start, end int, esc, ok bool) {
	b := p.b
	i := p.i + 1
	start = i
	for {
		for i+8 <= len(b) {
			v := binary.LittleEndian.Uint64(b[i:])
			if hasLess(v, 0x20)|hasValue(v, '"')|hasValue(v, '\\') != 0 {
				break
			}
			i += 8
		}
		if i >= len(b) {
			return 0, 0, false, false
		}
		switch c := b[i]; {
		case c == '"':
			p.i = i + 1
			return start, i, esc, true
		case c == '\\':
			esc = true
			if i+1 >= len(b) {
				return 0, 0, false, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || hex4(b[i+2:i+6]) < 0 {
					return 0, 0, false, false
				}
				i += 6
			default:
				return 0, 0, false, false
			}
		case c < 0x20:
			return 0, 0, false, false
		default:
			i++
		}
	}
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// unquote appends the contents s of a scanned string that has escapes, as
// encoding/json (which smithy-go copies) unquotes them: escapes decoded,
// an unpaired surrogate and each byte of invalid UTF-8 replaced by U+FFFD.
func unquote(dst, s []byte) []byte {
	for r := 0; r < len(s); {
		c := s[r]
		switch {
		case c == '\\':
			switch e := s[r+1]; e {
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				rr := hex4(s[r+2:])
				r += 6
				if utf16.IsSurrogate(rr) {
					if r+6 <= len(s) && s[r] == '\\' && s[r+1] == 'u' {
						if dec := utf16.DecodeRune(rr, hex4(s[r+2:])); dec != utf8.RuneError {
							r += 6
							dst = utf8.AppendRune(dst, dec)
							continue
						}
					}
					rr = utf8.RuneError
				}
				dst = utf8.AppendRune(dst, rr)
				continue
			default: // " \ /
				dst = append(dst, e)
			}
			r += 2
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			r++
		default:
			rr, size := utf8.DecodeRune(s[r:])
			dst = utf8.AppendRune(dst, rr)
			r += size
		}
	}
	return dst
}

// number scans a JSON number with the SDK scanner's rules.
func (p *parser) number() (start, end int, ok bool) {
	b := p.b
	i := p.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	d := i
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	if i == d || b[d] == '0' && i-d > 1 {
		return 0, 0, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		d = i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0, 0, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d = i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0, 0, false
		}
	}
	start = p.i
	p.i = i
	return start, i, true
}

// skip checks and skips one value of an unknown member.
func (p *parser) skip(depth int) bool {
	if depth > maxDepth || p.i >= len(p.b) {
		return false
	}
	switch p.b[p.i] {
	case '"':
		_, _, _, ok := p.str()
		return ok
	case '{':
		// Keys may have escapes here: they are not looked up.
		p.i++
		if p.peek() == '}' {
			p.i++
			return true
		}
		for {
			if p.peek() != '"' {
				return false
			}
			if _, _, _, ok := p.str(); !ok {
				return false
			}
			if p.peek() != ':' {
				return false
			}
			p.i++
			p.ws()
			if !p.skip(depth + 1) {
				return false
			}
			switch p.peek() {
			case ',':
				p.i++
			case '}':
				p.i++
				return true
			default:
				return false
			}
		}
	case '[':
		p.i++
		if p.peek() == ']' {
			p.i++
			return true
		}
		for {
			p.ws()
			if !p.skip(depth + 1) {
				return false
			}
			switch p.peek() {
			case ',':
				p.i++
			case ']':
				p.i++
				return true
			default:
				return false
			}
		}
	case 't':
		return p.literal("true")
	case 'f':
		return p.literal("false")
	case 'n':
		return p.literal("null")
	}
	_, _, ok := p.number()
	return ok
}

func (p *parser) literal(lit string) bool {
	if p.i+len(lit) <= len(p.b) && string(p.b[p.i:p.i+len(lit)]) == lit {
		p.i += len(lit)
		return true
	}
	return false
}

// parseInt parses a decimal integer token as smithy-go's readInt does.
func parseInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' || n > (1<<63)/10 {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
		if n > 1<<63 || n == 1<<63 && !neg {
			return 0, false
		}
	}
	if neg {
		return int64(-n), true //nolint:gosec // two's complement wrap gives MinInt64 for 1<<63
	}
	return int64(n), true
}

// epochNanos converts a number token of epoch seconds to the UnixNano that
// the SDK's ReadTime gives: the float64 of the token (an integer token
// converted exactly, as smithy-go's readFloat does, otherwise
// strconv.ParseFloat), times 1000 rounded to 53 bits, truncated to
// milliseconds, times 1e6 in int64 arithmetic.
func epochNanos(tok []byte) (int64, bool) {
	var f float64
	if n, ok := parseInt(tok); ok {
		f = float64(n)
	} else {
		// ParseFloat copies s into any error it returns, so s need not
		// outlive the call.
		var err error
		f, err = strconv.ParseFloat(unsafe.String(unsafe.SliceData(tok), len(tok)), 64)
		if err != nil {
			return 0, false
		}
	}
	if !(f > -maxEpochSeconds && f < maxEpochSeconds) {
		return 0, false
	}
	return int64(f*1000) * 1e6, true
}

// store holds the pointed-to values of one record.
type store struct {
	time     time.Time
	seq, key string
}

// dataChunk is the size of the blocks records' Data are decoded into, so
// that a record a handler keeps holds its block, not its page's whole Data
// (up to 10 MiB).
const dataChunk = 32 << 10

// page is the one allocation that holds the output and MillisBehindLatest.
type page struct {
	out    kinesis.GetRecordsOutput
	millis int64
}

// build runs pass 2: it allocates the page's memory and fills out. It
// reports false if a Data value is not valid base64. ev, if not nil, is
// filled too, straight from the tape (see buildEvents).
func (t *tape) build(ev *EventPage) (*kinesis.GetRecordsOutput, bool) {
	pg := &page{}
	out := &pg.out
	if t.hasMillis {
		pg.millis = t.millis
		out.MillisBehindLatest = &pg.millis
	}
	if t.hasNext {
		// Its own allocation: the next call's input holds it, and the
		// next output reaches that input (metadata → raw response →
		// request → context), so a pointer into this page would chain
		// every page read to the one before.
		next := string(t.bytesOf(t.next))
		out.NextShardIterator = &next
	}
	if !t.hasRecords {
		if ev != nil {
			ev.fill(nil)
		}
		return out, true
	}
	if ev != nil {
		recs, ok := t.buildEvents(ev)
		out.Records = recs
		return out, ok
	}

	n := len(t.recs)
	arena := newArena(t.strTotal)
	str := func(s span) string { return arena.str(t.bytesOf(s)) }
	recs := make([]types.Record, n)
	stores := make([]store, n)
	d := dataBlocks{left: t.dataTotal}
	for i := range t.recs {
		tr, r, st := &t.recs[i], &recs[i], &stores[i]
		if tr.has&hasData != 0 {
			b, ok := d.decode(t, tr)
			if !ok {
				return nil, false
			}
			r.Data = b
		}
		if tr.has&hasSeq != 0 {
			st.seq = str(tr.seq)
			r.SequenceNumber = &st.seq
		}
		if tr.has&hasKey != 0 {
			st.key = str(tr.key)
			r.PartitionKey = &st.key
		}
		if tr.has&hasTime != 0 {
			st.time = time.Unix(0, tr.nanos).UTC()
			r.ApproximateArrivalTimestamp = &st.time
		}
		if tr.has&hasEnc != 0 {
			if r.EncryptionType = intern(t.bytesOf(tr.enc)); r.EncryptionType == "" {
				r.EncryptionType = types.EncryptionType(str(tr.enc))
			}
		}
	}
	out.Records = recs
	return out, true
}

// arena hands out strings copied into one block of the size it was made
// with. The block is written only before a string over it is returned, and
// never after, which makes the strings made with unsafe.String immutable as
// Go requires.
type arena struct{ b []byte }

func newArena(size int) arena { return arena{b: make([]byte, 0, size)} }

// str returns a copy of b in the arena.
func (a *arena) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	at := len(a.b)
	a.b = append(a.b, b...)
	return unsafe.String(&a.b[at], len(b))
}

// eventID returns shardID + ":" + seq, copied into the arena.
func (a *arena) eventID(shardID string, seq []byte) string {
	at := len(a.b)
	a.b = append(a.b, shardID...)
	a.b = append(a.b, ':')
	a.b = append(a.b, seq...)
	return unsafe.String(&a.b[at], len(a.b)-at)
}

// dataBlocks hands out records' Data, decoded into dataChunk blocks.
type dataBlocks struct {
	block []byte
	left  int // decoded bytes of the records not yet given theirs
}

// decode decodes tr's Data into the current block, or a new one, and
// returns it as a full slice expression. It reports false for invalid
// base64.
func (d *dataBlocks) decode(t *tape, tr *tapeRecord) ([]byte, bool) {
	n := int(tr.dataLen)
	if d.block == nil || len(d.block) < n { // nil: empty Data is not nil, as the SDK's
		d.block = make([]byte, max(n, min(d.left, dataChunk)))
	}
	m, err := decodeBase64(d.block, t.body[tr.data.off:tr.data.end])
	if err != nil || m != n {
		return nil, false
	}
	b := d.block[:n:n]
	d.block = d.block[n:]
	d.left -= n
	return b, true
}

// eventChunk is how many event records share one block of strings, so
// that a record a handler keeps holds its neighbours' strings, not its
// whole page's.
const eventChunk = 128

// buildEvents makes ev.Records straight from the tape, and the output's
// records from them: each types.Record's pointers lead into its event
// record's fields and both share Data. So a page costs one pass, one copy
// of each string (a record's sequence number is the tail of its eventID)
// and no per-record allocations, where building types.Records first and
// converting them costs a second pass and a second copy. It reports false
// if a Data value is not valid base64.
func (t *tape) buildEvents(ev *EventPage) ([]types.Record, bool) {
	n := len(t.recs)
	evs := make([]events.KinesisEventRecord, n)
	recs := make([]types.Record, n)
	d := dataBlocks{left: t.dataTotal}
	prefix := len(ev.ShardID) + 1
	var a arena
	for i := range t.recs {
		if i%eventChunk == 0 {
			a = newArena(t.eventStrings(i, min(i+eventChunk, n), prefix))
		}
		tr, r, dst := &t.recs[i], &recs[i], &evs[i]
		k := &dst.Kinesis
		if tr.has&hasData != 0 {
			b, ok := d.decode(t, tr)
			if !ok {
				return nil, false
			}
			r.Data, k.Data = b, b
		}
		var seq []byte
		if tr.has&hasSeq != 0 {
			seq = t.bytesOf(tr.seq)
		}
		dst.EventID = a.eventID(ev.ShardID, seq)
		if tr.has&hasSeq != 0 {
			k.SequenceNumber = dst.EventID[prefix:]
			r.SequenceNumber = &k.SequenceNumber
		}
		if tr.has&hasKey != 0 {
			k.PartitionKey = a.str(t.bytesOf(tr.key))
			r.PartitionKey = &k.PartitionKey
		}
		if tr.has&hasTime != 0 {
			k.ApproximateArrivalTimestamp.Time = time.Unix(0, tr.nanos).UTC()
			r.ApproximateArrivalTimestamp = &k.ApproximateArrivalTimestamp.Time
		}
		if tr.has&hasEnc != 0 {
			if r.EncryptionType = intern(t.bytesOf(tr.enc)); r.EncryptionType == "" {
				r.EncryptionType = types.EncryptionType(a.str(t.bytesOf(tr.enc)))
			}
			if r.EncryptionType != "" && r.EncryptionType != types.EncryptionTypeNone {
				k.EncryptionType = string(r.EncryptionType)
			}
		}
		dst.AwsRegion = ev.Region
		dst.EventName = eventName
		dst.EventSource = eventSource
		dst.EventSourceArn = ev.StreamARN
		dst.EventVersion = eventVersion
		dst.InvokeIdentityArn = ev.InvokeIdentityARN
		k.KinesisSchemaVersion = kinesisSchemaVersion
	}
	ev.Records, ev.Filled = evs, true
	return recs, true
}

// eventStrings is the size of the string block of records [i, j) for
// buildEvents.
func (t *tape) eventStrings(i, j, prefix int) int {
	n := 0
	for ; i < j; i++ {
		tr := &t.recs[i]
		n += prefix
		if tr.has&hasSeq != 0 {
			n += tr.seq.len()
		}
		if tr.has&hasKey != 0 {
			n += tr.key.len()
		}
		if tr.has&hasEnc != 0 && !isInterned(t, hasEnc, tr.enc) {
			n += tr.enc.len()
		}
	}
	return n
}
