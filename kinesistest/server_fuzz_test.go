package kinesistest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"testing"
	"time"
)

// FuzzAppendBase64 checks the hand-written encoder of GetRecords's Data
// against the standard library: for any prefix and input, appendBase64
// keeps the prefix and appends exactly base64.StdEncoding's encoding.
func FuzzAppendBase64(f *testing.F) {
	for _, s := range []string{"", "a", "ab", "abc", "0123456789abcd", "0123456789abcdefghijklmnopqrstuvwxyz\xff\x00\xfe"} {
		f.Add([]byte("pre"), []byte(s))
	}
	f.Fuzz(func(t *testing.T, prefix, src []byte) {
		got := appendBase64(bytes.Clone(prefix), src)
		want := append(bytes.Clone(prefix), base64.StdEncoding.EncodeToString(src)...)
		if !bytes.Equal(got, want) {
			t.Fatalf("appendBase64(%q): got %q, want %q", src, got, want)
		}
	})
}

// FuzzAppendString checks the JSON string encoder of partition keys and
// sequence numbers: its output is one valid JSON string that decodes to
// what encoding/json's encoding of s decodes to (s, with each invalid
// UTF-8 byte replaced by U+FFFD).
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "k", "12345678", "123456789", `"quoted" \ back`, "tab\tnl\n\x00\x1f\x7f", "ключ 😀", "\xff\xfe bad", "\u2028\u2029"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		enc := appendString(nil, s)
		var got string
		if err := json.Unmarshal(enc, &got); err != nil {
			t.Fatalf("appendString(%q) = %s, not a JSON string: %v", s, enc, err)
		}
		std, _ := json.Marshal(s)
		var want string
		if err := json.Unmarshal(std, &want); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("appendString(%q) decodes to %q, want %q", s, got, want)
		}
	})
}

// FuzzEpochTime checks the timestamp parser of requests: it never panics,
// and what appendEpoch writes for a millisecond parses back to that
// millisecond, also when written as a float in exponent form.
func FuzzEpochTime(f *testing.F) {
	f.Add(int64(1735787045007), "1.735787045007E9")
	f.Add(int64(-1), "-0.001")
	f.Add(int64(0), "1e400")
	f.Fuzz(func(t *testing.T, ms int64, raw string) {
		var e epochTime
		_ = e.UnmarshalJSON([]byte(raw)) // any input: no panic

		ms %= 1 << 53 // beyond, float64 seconds cannot hold milliseconds
		want := time.UnixMilli(ms)
		for _, s := range []string{
			string(appendEpoch(nil, want)),
			strconv.FormatFloat(float64(ms)/1e3, 'e', -1, 64),
		} {
			var got epochTime
			if err := got.UnmarshalJSON([]byte(s)); err != nil {
				t.Fatalf("parse %s: %v", s, err)
			}
			if !time.Time(got).Round(time.Millisecond).Equal(want) {
				t.Fatalf("parse %s: got %v, want %v", s, time.Time(got), want)
			}
		}
	})
}
