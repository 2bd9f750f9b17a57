package filter

import (
	"bytes"
	"encoding/json"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Top-level pattern keys other than "data": the fields of the record's
// "kinesis" object that the invocation event carries.
const (
	metaPartitionKey = iota
	metaSequenceNumber
	metaArrival
	numMetaFields
)

var metaNames = [numMetaFields]string{
	metaPartitionKey:   "partitionKey",
	metaSequenceNumber: "sequenceNumber",
	metaArrival:        "approximateArrivalTimestamp",
}

// Operator names; inside "$or" they may not be used as field names.
var reserved = map[string]bool{
	"prefix": true, "suffix": true, "anything-but": true, "numeric": true,
	"exists": true, "cidr": true, "equals-ignore-case": true, "wildcard": true,
}

const orKey = "$or"

// pattern is one compiled pattern.
type pattern struct {
	root     expr
	usesData bool
}

// expr is an AND of conditions and of "$or" groups; a group holds when one
// of its branches does. Nested pattern objects are flattened into their
// parent's expr because nesting only lengthens the path.
type expr struct {
	conds []int32
	ors   [][]expr
}

// Results of expression for the "exists" operator.
const (
	existsNone int8 = iota
	existsTrue
	existsFalse
)

// cond is one field's array of values in one pattern: it holds when a value
// at node satisfies one matcher, or by the exists rule.
type cond struct {
	node     int32
	matchers []matcher
	// existsTrue and existsFalse record "exists" operators: the condition
	// also holds if a leaf value is (or is not) at node.
	existsTrue, existsFalse bool
	numeric                 bool // some matcher needs the value as a number
}

// node is a path in the record's data (or a metadata field); the data's
// scanner follows children and tests conds on the scalar values it finds.
type node struct {
	children []child
	index    map[string]int32 // children by name, when there are many
	conds    []int32
	numeric  bool
}

type child struct {
	name string
	node int32
}

const mapChildren = 8

func (n *node) lookup(key []byte) int32 {
	if n.index != nil {
		if c, ok := n.index[string(key)]; ok {
			return c
		}
		return -1
	}
	for i := range n.children {
		if n.children[i].name == string(key) {
			return n.children[i].node
		}
	}
	return -1
}

func (f *Filter) childNode(parent int32, name string) int32 {
	p := &f.nodes[parent]
	if c := p.lookup([]byte(name)); c >= 0 {
		return c
	}
	id := int32(len(f.nodes))
	p.children = append(p.children, child{name, id})
	if len(p.children) > mapChildren {
		if p.index == nil {
			p.index = make(map[string]int32)
		}
		for _, c := range p.children {
			p.index[c.name] = c.node
		}
	}
	f.nodes = append(f.nodes, node{})
	return id
}

func (f *Filter) metaNode(m int) int32 {
	if f.meta[m] < 0 {
		f.meta[m] = int32(len(f.nodes))
		f.nodes = append(f.nodes, node{})
	}
	return f.meta[m]
}

// compiler compiles one pattern.
type compiler struct {
	f        *Filter
	index    int
	usesData bool
}

func (c *compiler) fail(path, reason string, v any) error {
	e := &PatternError{Index: c.index, Path: path, Reason: reason}
	if v != nil {
		e.Value = show(v)
	}
	return e
}

// show renders v as compact JSON of at most 80 bytes.
func show(v any) string {
	var s string
	switch v := v.(type) {
	case string:
		s = strconv.Quote(v)
	case json.Number:
		s = v.String()
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return ""
		}
		s = string(b)
	}
	if len(s) > 80 {
		i := 77
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		s = s[:i] + "..."
	}
	return s
}

func joinPath(path, key string) string {
	ident := key != ""
	for _, r := range key {
		if r == '.' || r == '[' || r == ']' || r == '"' || r == ' ' {
			ident = false
			break
		}
	}
	if !ident {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func indexPath(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

func (f *Filter) add(index int, src string) error {
	c := &compiler{f: f, index: index}
	if n := utf8.RuneCountInString(src); n > MaxPatternLength {
		return c.fail("", "pattern has "+strconv.Itoa(n)+" characters, more than "+strconv.Itoa(MaxPatternLength), nil)
	}
	dec := json.NewDecoder(strings.NewReader(src))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return c.fail("", "not valid JSON: "+err.Error(), nil)
	}
	if _, err := dec.Token(); err != io.EOF {
		return c.fail("", "not valid JSON: data after the pattern object", nil)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return c.fail("", "pattern must be a JSON object", v)
	}
	root, err := c.top(obj, "", false)
	if err != nil {
		return err
	}
	f.patterns = append(f.patterns, pattern{root: root, usesData: c.usesData})
	if c.usesData {
		f.usesData = true
	}
	return nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// top compiles the record-level object: "data", metadata fields and "$or".
func (c *compiler) top(obj map[string]any, path string, inOr bool) (expr, error) {
	var e expr
	if len(obj) == 0 {
		return e, c.fail(path, "empty object", obj)
	}
	for _, k := range sortedKeys(obj) {
		v, p := obj[k], joinPath(path, k)
		switch {
		case k == orKey:
			g, err := c.or(v, p, c.top)
			if err != nil {
				return e, err
			}
			e.ors = append(e.ors, g)
		case k == "data":
			c.usesData = true
			sub, err := c.field(0, v, p, inOr)
			if err != nil {
				return e, err
			}
			e.conds = append(e.conds, sub.conds...)
			e.ors = append(e.ors, sub.ors...)
		default:
			m := slices.Index(metaNames[:], k)
			if m < 0 {
				return e, c.fail(p, `unknown field: a Kinesis pattern tests "data" and the metadata fields partitionKey, sequenceNumber and approximateArrivalTimestamp`, nil)
			}
			arr, ok := v.([]any)
			if !ok {
				return e, c.fail(p, "metadata field "+k+" is a scalar; its pattern must be an array", v)
			}
			ci, err := c.cond(c.f.metaNode(m), arr, p)
			if err != nil {
				return e, err
			}
			e.conds = append(e.conds, ci)
		}
	}
	return e, nil
}

// or compiles a "$or" array of at least two objects.
func (c *compiler) or(v any, path string, branch func(map[string]any, string, bool) (expr, error)) ([]expr, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, c.fail(path, `"$or" must be an array of objects`, v)
	}
	if len(arr) < 2 {
		return nil, c.fail(path, `"$or" needs at least two objects`, v)
	}
	g := make([]expr, 0, len(arr))
	for i, el := range arr {
		p := indexPath(path, i)
		obj, ok := el.(map[string]any)
		if !ok {
			return nil, c.fail(p, `"$or" may only contain objects`, el)
		}
		sub, err := branch(obj, p, true)
		if err != nil {
			return nil, err
		}
		g = append(g, sub)
	}
	return g, nil
}

// field compiles the pattern value v for the data path at node n: either a
// nested object or an array of values.
func (c *compiler) field(n int32, v any, path string, inOr bool) (expr, error) {
	switch v := v.(type) {
	case map[string]any:
		return c.object(n, v, path, inOr)
	case []any:
		ci, err := c.cond(n, v, path)
		return expr{conds: []int32{ci}}, err
	default:
		return expr{}, c.fail(path, "must be an object or an array", v)
	}
}

// object compiles a nested pattern object whose fields are children of n.
func (c *compiler) object(n int32, obj map[string]any, path string, inOr bool) (expr, error) {
	var e expr
	if len(obj) == 0 {
		return e, c.fail(path, "empty object", obj)
	}
	for _, k := range sortedKeys(obj) {
		v, p := obj[k], joinPath(path, k)
		if k == orKey {
			g, err := c.or(v, p, func(o map[string]any, p string, inOr bool) (expr, error) {
				return c.object(n, o, p, inOr)
			})
			if err != nil {
				return e, err
			}
			e.ors = append(e.ors, g)
			continue
		}
		if inOr && reserved[k] {
			return e, c.fail(p, "operator name "+strconv.Quote(k)+" used as a field name inside \"$or\"", nil)
		}
		sub, err := c.field(c.f.childNode(n, k), v, p, inOr)
		if err != nil {
			return e, err
		}
		e.conds = append(e.conds, sub.conds...)
		e.ors = append(e.ors, sub.ors...)
	}
	return e, nil
}

// cond compiles an array of values and match expressions, OR-ed.
func (c *compiler) cond(n int32, arr []any, path string) (int32, error) {
	if len(arr) == 0 {
		return 0, c.fail(path, "empty array", nil)
	}
	cd := cond{node: n}
	for i, el := range arr {
		p := indexPath(path, i)
		var m matcher
		switch el := el.(type) {
		case string:
			m = matcher{kind: mExactString, s: el}
		case json.Number:
			m = matcher{kind: mExactNumber, s: el.String()}
		case bool:
			m = matcher{kind: mExactFalse}
			if el {
				m.kind = mExactTrue
			}
		case nil:
			m = matcher{kind: mExactNull}
		case map[string]any:
			var err error
			var ex int8
			m, ex, err = c.expression(el, p)
			if err != nil {
				return 0, err
			}
			switch ex {
			case existsTrue:
				cd.existsTrue = true
				continue
			case existsFalse:
				cd.existsFalse = true
				continue
			}
		default:
			return 0, c.fail(p, "a value must be a string, number, true, false, null or an operator object", el)
		}
		m.b = []byte(m.s)
		if m.kind == mNumeric || m.kind == mAnythingButNumbers {
			cd.numeric = true
		}
		cd.matchers = append(cd.matchers, m)
	}
	id := int32(len(c.f.conds))
	c.f.conds = append(c.f.conds, cd)
	c.f.nodes[n].conds = append(c.f.nodes[n].conds, id)
	return id, nil
}

// expression compiles an operator object such as {"prefix": "us-"}. For
// "exists" it returns no matcher and the exists value.
func (c *compiler) expression(obj map[string]any, path string) (matcher, int8, error) {
	if len(obj) != 1 {
		return matcher{}, 0, c.fail(path, "an operator object must have exactly one key", obj)
	}
	var op string
	var v any
	for op, v = range obj {
	}
	p := joinPath(path, op)
	switch op {
	case "exists":
		b, ok := v.(bool)
		if !ok {
			return matcher{}, 0, c.fail(p, `"exists" takes true or false`, v)
		}
		if b {
			return matcher{}, existsTrue, nil
		}
		return matcher{}, existsFalse, nil
	case "prefix", "suffix":
		kind, fold := mPrefix, mPrefixFold
		if op == "suffix" {
			kind, fold = mSuffix, mSuffixFold
		}
		switch v := v.(type) {
		case string:
			return matcher{kind: kind, s: v}, 0, nil
		case map[string]any:
			s, ok := v["equals-ignore-case"].(string)
			if len(v) != 1 || !ok {
				return matcher{}, 0, c.fail(p, `"`+op+`" takes a string or {"equals-ignore-case": string}`, v)
			}
			return matcher{kind: fold, s: s}, 0, nil
		}
		return matcher{}, 0, c.fail(p, `"`+op+`" takes a string or {"equals-ignore-case": string}`, v)
	case "equals-ignore-case":
		s, ok := v.(string)
		if !ok {
			return matcher{}, 0, c.fail(p, `"equals-ignore-case" takes a string`, v)
		}
		return matcher{kind: mEqualsFold, s: s}, 0, nil
	case "wildcard":
		s, ok := v.(string)
		if !ok {
			return matcher{}, 0, c.fail(p, `"wildcard" takes a string`, v)
		}
		w, reason := parseWildcard(s)
		if reason != "" {
			return matcher{}, 0, c.fail(p, reason, v)
		}
		return matcher{kind: mWildcard, wild: []wildcard{w}}, 0, nil
	case "cidr":
		s, ok := v.(string)
		if !ok {
			return matcher{}, 0, c.fail(p, `"cidr" takes a string such as "10.0.0.0/24"`, v)
		}
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			return matcher{}, 0, c.fail(p, "not an IPv4 or IPv6 CIDR block", v)
		}
		return matcher{kind: mCIDR, prefix: pfx.Masked()}, 0, nil
	case "numeric":
		m, err := c.numeric(v, p)
		return m, 0, err
	case "anything-but":
		m, err := c.anythingBut(v, p)
		return m, 0, err
	}
	return matcher{}, 0, c.fail(p, "unknown operator "+strconv.Quote(op), nil)
}

func (c *compiler) number(v any, path string) (int64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, c.fail(path, "must be a number", v)
	}
	f, err := strconv.ParseFloat(n.String(), 64)
	q, inRange := quantize(f)
	if err != nil || !inRange {
		return 0, c.fail(path, "number not in [-5e9, 5e9]", v)
	}
	return q, nil
}

// numeric compiles ["op", n] or [">"|">=", n, "<"|"<=", m].
func (c *compiler) numeric(v any, path string) (matcher, error) {
	arr, ok := v.([]any)
	if !ok || (len(arr) != 2 && len(arr) != 4) {
		return matcher{}, c.fail(path, `"numeric" takes ["op", n] or [">"|">=", n, "<"|"<=", m]`, v)
	}
	m := matcher{kind: mNumeric}
	for i := 0; i < len(arr); i += 2 {
		op, ok := arr[i].(string)
		p := indexPath(path, i)
		if !ok {
			return m, c.fail(p, "numeric operator must be one of =, <, <=, >, >=", arr[i])
		}
		n, err := c.number(arr[i+1], indexPath(path, i+1))
		if err != nil {
			return m, err
		}
		switch {
		case i == 0 && op == "=" && len(arr) == 2:
			m.lo, m.hi, m.hasLo, m.hasHi = n, n, true, true
		case i == 0 && (op == ">" || op == ">="):
			m.lo, m.hasLo, m.loOpen = n, true, op == ">"
		case (i == 0 && len(arr) == 2 || i == 2) && (op == "<" || op == "<="):
			m.hi, m.hasHi, m.hiOpen = n, true, op == "<"
		default:
			reason := "numeric operator must be one of =, <, <=, >, >="
			if slices.Contains([]string{"=", "<", "<=", ">", ">="}, op) {
				reason = `a range is [">"|">=", n, "<"|"<=", m]`
			}
			return m, c.fail(p, reason, arr[i])
		}
	}
	if m.hasLo && m.hasHi && len(arr) == 4 && m.lo >= m.hi {
		return m, c.fail(path, "range bottom must be less than its top", v)
	}
	return m, nil
}

// anythingBut compiles the value of "anything-but": a string, a number, a
// list of only strings or only numbers, or {"prefix"|"suffix"|
// "equals-ignore-case"|"wildcard": string or list of strings}.
func (c *compiler) anythingBut(v any, path string) (matcher, error) {
	switch v := v.(type) {
	case string:
		return matcher{kind: mAnythingButStrings, strs: []string{v}}, nil
	case json.Number:
		n, err := c.number(v, path)
		return matcher{kind: mAnythingButNumbers, nums: []int64{n}}, err
	case []any:
		if len(v) == 0 {
			return matcher{}, c.fail(path, `"anything-but" list is empty`, nil)
		}
		if _, isNum := v[0].(json.Number); isNum {
			m := matcher{kind: mAnythingButNumbers}
			for i, el := range v {
				n, err := c.number(el, indexPath(path, i))
				if err != nil {
					return m, c.fail(indexPath(path, i), `an "anything-but" list holds only strings or only numbers`, el)
				}
				m.nums = append(m.nums, n)
			}
			return m, nil
		}
		m := matcher{kind: mAnythingButStrings}
		for i, el := range v {
			s, ok := el.(string)
			if !ok {
				return m, c.fail(indexPath(path, i), `an "anything-but" list holds only strings or only numbers`, el)
			}
			m.strs = append(m.strs, s)
		}
		return m, nil
	case map[string]any:
		if len(v) != 1 {
			return matcher{}, c.fail(path, `"anything-but" object must have exactly one key`, v)
		}
		var op string
		var arg any
		for op, arg = range v {
		}
		p := joinPath(path, op)
		var kind matcherKind
		switch op {
		case "prefix":
			kind = mAnythingButPrefix
		case "suffix":
			kind = mAnythingButSuffix
		case "equals-ignore-case":
			kind = mAnythingButFold
		case "wildcard":
			kind = mAnythingButWildcard
		default:
			return matcher{}, c.fail(p, `"anything-but" takes prefix, suffix, equals-ignore-case or wildcard, not `+strconv.Quote(op), nil)
		}
		var strs []string
		switch arg := arg.(type) {
		case string:
			strs = []string{arg}
		case []any:
			for i, el := range arg {
				s, ok := el.(string)
				if !ok {
					return matcher{}, c.fail(indexPath(p, i), "must be a string", el)
				}
				strs = append(strs, s)
			}
		}
		if len(strs) == 0 {
			return matcher{}, c.fail(p, "takes a string or a non-empty list of strings", arg)
		}
		m := matcher{kind: kind, strs: strs}
		for i, s := range strs {
			if s == "" && (kind == mAnythingButPrefix || kind == mAnythingButSuffix) {
				return m, c.fail(p, "empty "+op+" not allowed", arg)
			}
			if kind == mAnythingButWildcard {
				w, reason := parseWildcard(s)
				if reason != "" {
					if len(strs) > 1 {
						p = indexPath(p, i)
					}
					return m, c.fail(p, reason, s)
				}
				m.wild = append(m.wild, w)
			}
		}
		return m, nil
	}
	return matcher{}, c.fail(path, `"anything-but" takes a string, a number, a list or an object`, v)
}

// parseWildcard splits s at its unescaped '*'s. It returns a reason if s has
// consecutive wildcards or a backslash that escapes neither '*' nor '\'.
func parseWildcard(s string) (wildcard, string) {
	var w wildcard
	var cur bytes.Buffer
	prevStar := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*':
			if prevStar {
				return w, "consecutive wildcard characters are not allowed"
			}
			w.parts = append(w.parts, cur.String())
			cur.Reset()
			prevStar = true
			continue
		case '\\':
			if i+1 == len(s) || (s[i+1] != '*' && s[i+1] != '\\') {
				return w, `a backslash may only escape "*" or "\"`
			}
			i++
		}
		cur.WriteByte(s[i])
		prevStar = false
	}
	w.parts = append(w.parts, cur.String())
	return w, ""
}
