package filter

// The fuzz targets are white-box: they check the streaming scanner against
// a reference that decodes the data with encoding/json and walks it.

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/netip"
	"testing"
	"unicode/utf8"
)

var fuzzPatterns = []string{
	`{"data":{"type":["buy","sell"],"qty":[{"numeric":[">",0,"<=",1000]}]}}`,
	`{"data":{"$or":[{"name":[{"prefix":{"equals-ignore-case":"AL"}}]},{"name":[{"wildcard":"*b*c\\*"}]}],"x":[{"exists":false}]}}`,
	`{"data":{"a":{"b":[null,true,false,"",1.5e3,{"suffix":"z"},{"cidr":"10.0.0.0/8"}]}}}`,
	`{"data":{"s":[{"anything-but":{"wildcard":["*x*","y*"]}},{"anything-but":[1,2]}],"t":[{"equals-ignore-case":"ß"}]}}`,
	`{"partitionKey":["pk"],"data":[{"anything-but":{"prefix":"q"}}]}`,
}

var fuzzData = []string{
	`{"type":"buy","qty":10}`,
	`{"name":"alice","a":{"b":[null,"10.1.2.3",1500]}}`,
	`{"s":"abc","t":"SS","a":[{"b":"xyz"},{"b":true}]}`,
	`{"n\u0061me":"\ud83d\ude00\u00e9","name":"abc*"}`,
	`[{"type":"sell"},{"qty":1e2}]`,
	`"quux"`,
	`{"type":"buy","qty":10`,
	"{\"a\":\"\xff\"}",
	`{"a":{"b":{}},"a":{"b":[]}}`,
	`  12.5e-3 `,
	`10.0.0.1`,
	`::ffff:10.0.0.1`,
	`010.0.0.1`,
}

// refMatch is Match with the data walked from encoding/json's tokens.
func refMatch(f *Filter, r Record) bool {
	if len(f.patterns) == 0 {
		return true
	}
	st := f.pool.New().(*state)
	f.matchMeta(st, &r)
	dataOK := false
	if f.usesData && json.Valid(r.Data) && utf8.Valid(r.Data) {
		dec := json.NewDecoder(bytes.NewReader(r.Data))
		dec.UseNumber()
		dataOK = refWalk(dec, f, st, 0) == nil
	}
	for i := range f.patterns {
		p := &f.patterns[i]
		if (!p.usesData || dataOK) && f.eval(st, &p.root) {
			return true
		}
	}
	return false
}

func refWalk(dec *json.Decoder, f *Filter, st *state, n int32) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		for dec.More() {
			c := n
			if t == '{' {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				c = -1
				if n >= 0 {
					c = f.nodes[n].lookup([]byte(k.(string)))
				}
			}
			if err := refWalk(dec, f, st, c); err != nil {
				return err
			}
		}
		_, err = dec.Token()
		return err
	case string:
		if n >= 0 {
			f.leaf(st, n, value{kind: kindString, raw: []byte(t)})
		}
	case json.Number:
		if n >= 0 {
			f.leaf(st, n, value{kind: kindNumber, raw: []byte(t)})
		}
	case bool:
		if n >= 0 {
			k := kindFalse
			if t {
				k = kindTrue
			}
			f.leaf(st, n, value{kind: k})
		}
	case nil:
		if n >= 0 {
			f.leaf(st, n, value{kind: kindNull})
		}
	}
	return nil
}

// FuzzCompile: Compile never panics and returns either a Filter or an error
// wrapping ErrInvalidPattern; a pattern that is not JSON is always an
// error; a compiled Filter agrees with the reference on sample records.
func FuzzCompile(f *testing.F) {
	for _, p := range fuzzPatterns {
		f.Add(p)
	}
	f.Add(`{"data":{"$or":[{"a":["1"]},{"b":{"$or":[{"c":[1]},{"d":[{"exists":true}]}]}}]}}`)
	f.Add(`{"data": buy}`)
	f.Add(`{"approximateArrivalTimestamp":[{"numeric":["<",1e9]}],"sequenceNumber":["1"]}`)
	f.Fuzz(func(t *testing.T, pattern string) {
		flt, err := Compile([]string{pattern})
		if err != nil {
			if !errors.Is(err, ErrInvalidPattern) {
				t.Fatalf("error %v does not wrap ErrInvalidPattern", err)
			}
			return
		}
		if !json.Valid([]byte(pattern)) {
			t.Fatalf("compiled a pattern that is not JSON: %q", pattern)
		}
		for _, d := range fuzzData {
			r := Record{PartitionKey: "pk", SequenceNumber: "1", Data: []byte(d)}
			if got, want := flt.Match(r), refMatch(flt, r); got != want {
				t.Fatalf("pattern %s data %s: Match %v, reference %v", pattern, d, got, want)
			}
		}
	})
}

// FuzzMatch: Match never panics and agrees with the reference for arbitrary
// data, against fixed patterns and a fuzzed one; data the scanner accepts
// is exactly the valid UTF-8 JSON. Wildcard matching is polynomial, so no
// input can make Match run for long.
func FuzzMatch(f *testing.F) {
	for i, d := range fuzzData {
		f.Add([]byte(d), fuzzPatterns[i%len(fuzzPatterns)])
	}
	fixed, err := Compile(fuzzPatterns)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte, pattern string) {
		r := Record{PartitionKey: "pk", Data: data}
		if got, want := fixed.Match(r), refMatch(fixed, r); got != want {
			t.Fatalf("data %q: Match %v, reference %v", data, got, want)
		}
		s := scanner{f: fixed, st: fixed.pool.New().(*state), data: data}
		if got, want := s.document(), json.Valid(data) && utf8.Valid(data); got != want {
			t.Fatalf("data %q: scanner valid %v, want %v", data, got, want)
		}
		a, ok := parseAddr(data)
		if want, err := netip.ParseAddr(string(data)); ok != (err == nil) || ok && a != want {
			t.Fatalf("parseAddr(%q) = %v, %v; netip.ParseAddr gives %v, %v", data, a, ok, want, err)
		}
		flt, err := Compile([]string{pattern})
		if err != nil {
			return
		}
		if got, want := flt.Match(r), refMatch(flt, r); got != want {
			t.Fatalf("pattern %s data %q: Match %v, reference %v", pattern, data, got, want)
		}
	})
}
