package filter_test

import (
	"fmt"

	"github.com/esmkit/esmkit/filter"
)

func Example() {
	f, err := filter.Compile([]string{
		`{"data": {"order": {"type": ["buy"], "quantity": [{"numeric": [">=", 100]}]}}}`,
		`{"data": {"order": {"stock": [{"prefix": "AMZ"}]}}}`,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, data := range []string{
		`{"order": {"type": "buy", "stock": "ANYCO", "quantity": 1000}}`,
		`{"order": {"type": "buy", "stock": "ANYCO", "quantity": 10}}`,
		`{"order": {"type": "sell", "stock": "AMZN", "quantity": 10}}`,
		`not JSON`,
	} {
		fmt.Println(f.Match(filter.Record{PartitionKey: "1", Data: []byte(data)}))
	}

	_, err = filter.Compile([]string{`{"data": {"price": [{"numeric": ["<>", 10]}]}}`})
	fmt.Println(err)
	// Output:
	// true
	// false
	// true
	// false
	// filter: invalid pattern 0 at data.price[0].numeric[0]: numeric operator must be one of =, <, <=, >, >= (got "<>")
}
