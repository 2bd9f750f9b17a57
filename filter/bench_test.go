package filter_test

import (
	"strings"
	"testing"

	"github.com/esmkit/esmkit/filter"
)

// benchData is a 1 KiB order record: nested objects, arrays, numbers and
// an escaped string, with most fields unnamed by the patterns.
var benchData = func() []byte {
	s := `{"orderId":"7f3c2a9e-1b4d-4e8f-9a6b-2c5d8e1f0a3b","type":"sell","status":"PENDING",` +
		`"customer":{"id":"C-100234","name":"Alice \"Al\" Example","email":"alice@example.com","tier":"gold",` +
		`"address":{"street":"1 Main St","city":"Seattle","state":"WA","zip":"98101","country":"US"}},` +
		`"items":[{"sku":"SKU-0001","qty":2,"price":19.99,"tags":["new","promo"]},` +
		`{"sku":"SKU-0002","qty":1,"price":249.5,"tags":["electronics"]},` +
		`{"sku":"SKU-0003","qty":5,"price":3.25,"tags":[]}],` +
		`"payment":{"method":"card","card":{"brand":"visa","last4":"4242"},"amount":305.74,"currency":"USD"},` +
		`"source":{"ip":"10.20.30.40","userAgent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"},` +
		`"createdAt":"2025-06-01T12:34:56.789Z","updatedAt":"2025-06-01T12:35:01.002Z","version":3,"flags":{"gift":false,"express":true,"note":null},` +
		`"notes":"`
	return []byte(s + strings.Repeat("x", 1024-len(s)-2) + `"}`)
}()

// benchPatterns are five patterns over the record, none of which matches
// benchData, so every record is scanned and every pattern evaluated.
var benchPatterns = []string{
	`{"data":{"type":["buy"],"customer":{"tier":["gold","platinum"]}}}`,
	`{"data":{"payment":{"amount":[{"numeric":[">",1000]}],"currency":["USD"]}}}`,
	`{"data":{"status":[{"anything-but":["PENDING","FAILED"]}],"customer":{"address":{"country":[{"prefix":"C"}]}}}}`,
	`{"data":{"$or":[{"items":{"sku":[{"wildcard":"SKU-9*"}]}},{"source":{"ip":[{"cidr":"192.168.0.0/16"}]}}]}}`,
	`{"data":{"flags":{"gift":[true]},"customer":{"email":[{"suffix":{"equals-ignore-case":"@EXAMPLE.ORG"}}]}}}`,
}

func BenchmarkMatch(b *testing.B) {
	f, err := filter.Compile(benchPatterns)
	if err != nil {
		b.Fatal(err)
	}
	if len(benchData) != 1024 {
		b.Fatalf("benchData is %d bytes, want 1024", len(benchData))
	}
	cases := []struct {
		name string
		f    *filter.Filter
		data []byte
	}{
		{"1KiB/5patterns/nomatch", f, benchData},
		{"1KiB/5patterns/match", f, []byte(strings.Replace(string(benchData), `"gift":false`, `"gift":true `, 1))},
		{"1KiB/5patterns/notJSON", f, benchData[:1000]},
	}
	meta, err := filter.Compile([]string{`{"partitionKey":[{"prefix":"user-"}]}`})
	if err != nil {
		b.Fatal(err)
	}
	cases = append(cases, struct {
		name string
		f    *filter.Filter
		data []byte
	}{"1KiB/partitionKeyOnly", meta, benchData})
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			r := filter.Record{PartitionKey: "user-42", Data: tc.data}
			b.ReportAllocs()
			b.SetBytes(int64(len(tc.data)))
			for b.Loop() {
				tc.f.Match(r)
			}
		})
	}
}

func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := filter.Compile(benchPatterns); err != nil {
			b.Fatal(err)
		}
	}
}
