package filter_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/esmkit/esmkit/filter"
)

func mustCompile(t *testing.T, patterns ...string) *filter.Filter {
	t.Helper()
	f, err := filter.Compile(patterns, filter.MaxPatterns(filter.MaxPatternsQuota))
	if err != nil {
		t.Fatalf("Compile(%q): %v", patterns, err)
	}
	return f
}

type matchCase struct {
	name    string
	pattern string
	data    string
	want    bool
}

func runMatchCases(t *testing.T, cases []matchCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := mustCompile(t, tc.pattern)
			got := f.Match(filter.Record{PartitionKey: "1", Data: []byte(tc.data)})
			if got != tc.want {
				t.Errorf("pattern %s, data %s: got %v, want %v", tc.pattern, tc.data, got, tc.want)
			}
		})
	}
}

// TestLambdaOperators covers the comparison-operator table of "Control which
// events Lambda sends to your function" (invocation-eventfiltering), row by
// row, with the Kinesis "data" key around each rule.
func TestLambdaOperators(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"Null/UserID is null", `{"data":{"UserID":[null]}}`, `{"UserID":null}`, true},
		{"Null/UserID is a string", `{"data":{"UserID":[null]}}`, `{"UserID":"u1"}`, false},
		{"Null/missing UserID is not null", `{"data":{"UserID":[null]}}`, `{}`, false},
		{"Null/empty string is not null", `{"data":{"UserID":[null]}}`, `{"UserID":""}`, false},
		{"Empty/LastName is empty", `{"data":{"LastName":[""]}}`, `{"LastName":""}`, true},
		{"Empty/LastName is not empty", `{"data":{"LastName":[""]}}`, `{"LastName":"Doe"}`, false},
		{"Empty/null is not empty", `{"data":{"LastName":[""]}}`, `{"LastName":null}`, false},
		{"Equals/Name is Alice", `{"data":{"Name":["Alice"]}}`, `{"Name":"Alice"}`, true},
		{"Equals/no case folding", `{"data":{"Name":["Alice"]}}`, `{"Name":"alice"}`, false},
		{"Equals/no normalisation", `{"data":{"Name":["Alice"]}}`, `{"Name":"Alice "}`, false},
		{"Equals/string does not match number", `{"data":{"Name":["100"]}}`, `{"Name":100}`, false},
		{"Equals/true", `{"data":{"ok":[true]}}`, `{"ok":true}`, true},
		{"Equals/true is not the string true", `{"data":{"ok":[true]}}`, `{"ok":"true"}`, false},
		{"Equals/false", `{"data":{"ok":[false]}}`, `{"ok":false}`, true},
		{"Equals (ignore case)/alice matches ALICE", `{"data":{"Name":[{"equals-ignore-case":"alice"}]}}`, `{"Name":"ALICE"}`, true},
		{"Equals (ignore case)/alice does not match Alicia", `{"data":{"Name":[{"equals-ignore-case":"alice"}]}}`, `{"Name":"Alicia"}`, false},
		{"Equals (ignore case)/Unicode folding", `{"data":{"Name":[{"equals-ignore-case":"straße"}]}}`, `{"Name":"STRAßE"}`, true},
		{"And/Location and Day both match", `{"data":{"Location":["New York"],"Day":["Monday"]}}`, `{"Location":"New York","Day":"Monday"}`, true},
		{"And/Day differs", `{"data":{"Location":["New York"],"Day":["Monday"]}}`, `{"Location":"New York","Day":"Tuesday"}`, false},
		{"And/Day missing", `{"data":{"Location":["New York"],"Day":["Monday"]}}`, `{"Location":"New York"}`, false},
		{"Or/PaymentType Credit", `{"data":{"PaymentType":["Credit","Debit"]}}`, `{"PaymentType":"Credit"}`, true},
		{"Or/PaymentType Debit", `{"data":{"PaymentType":["Credit","Debit"]}}`, `{"PaymentType":"Debit"}`, true},
		{"Or/PaymentType Cash", `{"data":{"PaymentType":["Credit","Debit"]}}`, `{"PaymentType":"Cash"}`, false},
		{"Or (multiple fields)/Location matches", `{"data":{"$or":[{"Location":["New York"]},{"Day":["Monday"]}]}}`, `{"Location":"New York","Day":"Sunday"}`, true},
		{"Or (multiple fields)/Day matches", `{"data":{"$or":[{"Location":["New York"]},{"Day":["Monday"]}]}}`, `{"Location":"Boston","Day":"Monday"}`, true},
		{"Or (multiple fields)/neither", `{"data":{"$or":[{"Location":["New York"]},{"Day":["Monday"]}]}}`, `{"Location":"Boston","Day":"Sunday"}`, false},
		{"Not/Weather is anything but Raining", `{"data":{"Weather":[{"anything-but":["Raining"]}]}}`, `{"Weather":"Sunny"}`, true},
		{"Not/Raining excluded", `{"data":{"Weather":[{"anything-but":["Raining"]}]}}`, `{"Weather":"Raining"}`, false},
		{"Not/missing field does not match", `{"data":{"Weather":[{"anything-but":["Raining"]}]}}`, `{}`, false},
		{"Numeric (equals)/Price is 100", `{"data":{"Price":[{"numeric":["=",100]}]}}`, `{"Price":100}`, true},
		{"Numeric (equals)/compares numerically: 100.0", `{"data":{"Price":[{"numeric":["=",100]}]}}`, `{"Price":100.0}`, true},
		{"Numeric (equals)/compares numerically: 1e2", `{"data":{"Price":[{"numeric":["=",100]}]}}`, `{"Price":1e2}`, true},
		{"Numeric (equals)/string 100 is not a number", `{"data":{"Price":[{"numeric":["=",100]}]}}`, `{"Price":"100"}`, false},
		{"Numeric (range)/20 is in (10, 20]", `{"data":{"Price":[{"numeric":[">",10,"<=",20]}]}}`, `{"Price":20}`, true},
		{"Numeric (range)/10 is not in (10, 20]", `{"data":{"Price":[{"numeric":[">",10,"<=",20]}]}}`, `{"Price":10}`, false},
		{"Numeric (range)/10.000001 is in (10, 20]", `{"data":{"Price":[{"numeric":[">",10,"<=",20]}]}}`, `{"Price":10.000001}`, true},
		{"Numeric (range)/20.5 is not in (10, 20]", `{"data":{"Price":[{"numeric":[">",10,"<=",20]}]}}`, `{"Price":20.5}`, false},
		{"Exists/ProductName exists", `{"data":{"ProductName":[{"exists":true}]}}`, `{"ProductName":"x"}`, true},
		{"Exists/null is a leaf value", `{"data":{"ProductName":[{"exists":true}]}}`, `{"ProductName":null}`, true},
		{"Exists/missing", `{"data":{"ProductName":[{"exists":true}]}}`, `{"Other":"x"}`, false},
		{"Does not exist/missing", `{"data":{"ProductName":[{"exists":false}]}}`, `{"Other":"x"}`, true},
		{"Does not exist/present", `{"data":{"ProductName":[{"exists":false}]}}`, `{"ProductName":"x"}`, false},
		{"Begins with/Region us-east-1", `{"data":{"Region":[{"prefix":"us-"}]}}`, `{"Region":"us-east-1"}`, true},
		{"Begins with/Region eu-west-1", `{"data":{"Region":[{"prefix":"us-"}]}}`, `{"Region":"eu-west-1"}`, false},
		{"Begins with/case sensitive", `{"data":{"Region":[{"prefix":"us-"}]}}`, `{"Region":"US-east-1"}`, false},
		{"Ends with/FileName .png", `{"data":{"FileName":[{"suffix":".png"}]}}`, `{"FileName":"image.png"}`, true},
		{"Ends with/FileName .jpg", `{"data":{"FileName":[{"suffix":".png"}]}}`, `{"FileName":"image.jpg"}`, false},
		// "For numbers, Lambda also uses string representation. For example,
		// 300, 300.0, and 3.0e2 are not considered equal."
		{"Note/300 equals 300", `{"data":{"n":[300]}}`, `{"n":300}`, true},
		{"Note/300 is not 300.0", `{"data":{"n":[300]}}`, `{"n":300.0}`, false},
		{"Note/300 is not 3.0e2", `{"data":{"n":[300]}}`, `{"n":3.0e2}`, false},
		{"Note/3.0e2 equals 3.0e2", `{"data":{"n":[3.0e2]}}`, `{"n":3.0e2}`, true},
		// Filtering examples.
		{"Example/Temperature > 50 and <= 60", `{"data":{"Temperature":[{"numeric":[">",50,"<=",60]}]}}`, `{"City":"Seattle","Temperature":55}`, true},
		{"Example/Temperature 46 is a string", `{"data":{"Temperature":[{"numeric":[">",40]}]}}`, `{"Temperature":"46"}`, false},
		{"Example/multi-level filtering", `{"data":{"Keys":{"Id":{"N":["101"]}}}}`, `{"Keys":{"Id":{"N":"101"}},"SizeBytes":26}`, true},
		{"Example/multi-level other value", `{"data":{"Keys":{"Id":{"N":["101"]}}}}`, `{"Keys":{"Id":{"N":"102"}}}`, false},
		{"Example/Kinesis order type buy", `{"data":{"order":{"type":["buy"]}}}`, `{"record":12345,"order":{"type":"buy","stock":"ANYCO","quantity":1000}}`, true},
		{"Example/console a is 1 or 2", `{"data":{"a":[1,2]}}`, `{"a":2}`, true},
	})
}

// TestEventBridgeContentFiltering covers "Content filtering in Amazon
// EventBridge event patterns" (eb-event-patterns-content-based-filtering)
// and the comparison-operator table of eb-create-pattern-operators.
func TestEventBridgeContentFiltering(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"Prefix matching/time starts with 2017-10-02", `{"data":{"time":[{"prefix":"2017-10-02"}]}}`, `{"time":"2017-10-02T18:43:48Z"}`, true},
		{"Prefix matching/only string values", `{"data":{"n":[{"prefix":"12"}]}}`, `{"n":123}`, false},
		{"Prefix matching/empty prefix matches any string", `{"data":{"s":[{"prefix":""}]}}`, `{"s":"x"}`, true},
		{"Prefix matching while ignoring case/EVENTBRIDGE", `{"data":{"service":[{"prefix":{"equals-ignore-case":"EventB"}}]}}`, `{"service":"EVENTBRIDGE"}`, true},
		{"Prefix matching while ignoring case/eventbus", `{"data":{"service":[{"prefix":{"equals-ignore-case":"EventB"}}]}}`, `{"service":"eventbus"}`, true},
		{"Prefix matching while ignoring case/no match", `{"data":{"service":[{"prefix":{"equals-ignore-case":"EventB"}}]}}`, `{"service":"Events"}`, false},
		{"Suffix matching/FileName ends with .png", `{"data":{"FileName":[{"suffix":".png"}]}}`, `{"FileName":"a.png"}`, true},
		{"Suffix matching/only string values", `{"data":{"n":[{"suffix":"3"}]}}`, `{"n":123}`, false},
		{"Suffix matching while ignoring case/.PNG", `{"data":{"FileName":[{"suffix":{"equals-ignore-case":".png"}}]}}`, `{"FileName":"A.PNG"}`, true},
		{"Suffix matching while ignoring case/.jpg", `{"data":{"FileName":[{"suffix":{"equals-ignore-case":".png"}}]}}`, `{"FileName":"A.JPG"}`, false},
		{"Anything-but matching/string", `{"data":{"state":[{"anything-but":"initializing"}]}}`, `{"state":"running"}`, true},
		{"Anything-but matching/string excluded", `{"data":{"state":[{"anything-but":"initializing"}]}}`, `{"state":"initializing"}`, false},
		{"Anything-but matching/number", `{"data":{"x-limit":[{"anything-but":123}]}}`, `{"x-limit":124}`, true},
		{"Anything-but matching/number excluded", `{"data":{"x-limit":[{"anything-but":123}]}}`, `{"x-limit":123}`, false},
		{"Anything-but matching/number excluded numerically", `{"data":{"x-limit":[{"anything-but":123}]}}`, `{"x-limit":123.0}`, false},
		{"Anything-but matching/number allows the string 123", `{"data":{"x-limit":[{"anything-but":123}]}}`, `{"x-limit":"123"}`, true},
		{"Anything-but matching/string allows other types", `{"data":{"state":[{"anything-but":"initializing"}]}}`, `{"state":7}`, true},
		{"Anything-but matching/list of strings", `{"data":{"state":[{"anything-but":["stopped","overloaded"]}]}}`, `{"state":"running"}`, true},
		{"Anything-but matching/list of strings excluded", `{"data":{"state":[{"anything-but":["stopped","overloaded"]}]}}`, `{"state":"overloaded"}`, false},
		{"Anything-but matching/list of numbers", `{"data":{"x-limit":[{"anything-but":[100,200,300]}]}}`, `{"x-limit":150}`, true},
		{"Anything-but matching/list of numbers excluded", `{"data":{"x-limit":[{"anything-but":[100,200,300]}]}}`, `{"x-limit":200}`, false},
		{"Anything-but matching/array with one allowed element", `{"data":{"price":[{"anything-but":[100,500]}]}}`, `{"price":[100,50]}`, true},
		{"Anything-but matching/array of only excluded elements", `{"data":{"price":[{"anything-but":[100,500]}]}}`, `{"price":[100,500]}`, false},
		{"Anything-but (begins with)/Region not in the US", `{"data":{"Region":[{"anything-but":{"prefix":"us-"}}]}}`, `{"Region":"eu-west-1"}`, true},
		{"Anything-but (begins with)/us-east-1 excluded", `{"data":{"Region":[{"anything-but":{"prefix":"us-"}}]}}`, `{"Region":"us-east-1"}`, false},
		{"Anything-but (begins with)/list", `{"data":{"state":[{"anything-but":{"prefix":["init","stop"]}}]}}`, `{"state":"stopped"}`, false},
		{"Anything-but (ends with)/FileName not .png", `{"data":{"FileName":[{"anything-but":{"suffix":".png"}}]}}`, `{"FileName":"a.txt"}`, true},
		{"Anything-but (ends with)/a.png excluded", `{"data":{"FileName":[{"anything-but":{"suffix":".png"}}]}}`, `{"FileName":"a.png"}`, false},
		{"Anything-but (ignore case)/INITIALIZING excluded", `{"data":{"state":[{"anything-but":{"equals-ignore-case":"initializing"}}]}}`, `{"state":"INITIALIZING"}`, false},
		{"Anything-but (ignore case)/running allowed", `{"data":{"state":[{"anything-but":{"equals-ignore-case":"initializing"}}]}}`, `{"state":"running"}`, true},
		{"Anything-but (ignore case)/list", `{"data":{"state":[{"anything-but":{"equals-ignore-case":["initializing","stopped"]}}]}}`, `{"state":"Stopped"}`, false},
		{"Anything-but using a wildcard/path with /lib/ excluded", `{"data":{"FilePath":[{"anything-but":{"wildcard":"*/lib/*"}}]}}`, `{"FilePath":"/usr/lib/tool"}`, false},
		{"Anything-but using a wildcard/other path allowed", `{"data":{"FilePath":[{"anything-but":{"wildcard":"*/lib/*"}}]}}`, `{"FilePath":"/usr/bin/tool"}`, true},
		{"Anything-but using a wildcard/list", `{"data":{"FilePath":[{"anything-but":{"wildcard":["*/lib/*","*/bin/*"]}}]}}`, `{"FilePath":"/usr/bin/tool"}`, false},
		{"Numeric matching/all fields true", `{"data":{"c-count":[{"numeric":[">",0,"<=",5]}],"d-count":[{"numeric":["<",10]}],"x-limit":[{"numeric":["=",3.018e2]}]}}`, `{"c-count":5,"d-count":3,"x-limit":301.8}`, true},
		{"Numeric matching/one field false", `{"data":{"c-count":[{"numeric":[">",0,"<=",5]}],"d-count":[{"numeric":["<",10]}]}}`, `{"c-count":5,"d-count":10}`, false},
		{"Numeric matching/>= bound included", `{"data":{"n":[{"numeric":[">=",5]}]}}`, `{"n":5}`, true},
		{"Numeric matching/< bound excluded", `{"data":{"n":[{"numeric":["<",5]}]}}`, `{"n":5}`, false},
		{"Numeric matching/negative values", `{"data":{"n":[{"numeric":[">=",-10,"<",-1]}]}}`, `{"n":-5.5}`, true},
		{"Numeric matching/six decimal digits", `{"data":{"n":[{"numeric":["=",0.1234567]}]}}`, `{"n":0.1234568}`, true},
		{"Numeric matching/values beyond 5e9 never match", `{"data":{"n":[{"numeric":[">",0]}]}}`, `{"n":6e9}`, false},
		{"IP address matching/10.0.0.0/24 contains 10.0.0.33", `{"data":{"sourceIPAddress":[{"cidr":"10.0.0.0/24"}]}}`, `{"sourceIPAddress":"10.0.0.33"}`, true},
		{"IP address matching/10.0.0.0/24 excludes 10.0.1.1", `{"data":{"sourceIPAddress":[{"cidr":"10.0.0.0/24"}]}}`, `{"sourceIPAddress":"10.0.1.1"}`, false},
		{"IP address matching/IPv6", `{"data":{"ip":[{"cidr":"2001:db8::/32"}]}}`, `{"ip":"2001:db8:1::5"}`, true},
		{"IP address matching/IPv6 outside", `{"data":{"ip":[{"cidr":"2001:db8::/32"}]}}`, `{"ip":"2001:db9::5"}`, false},
		{"IP address matching/not an address", `{"data":{"ip":[{"cidr":"10.0.0.0/8"}]}}`, `{"ip":"host"}`, false},
		{"Exists matching/c-count absent", `{"data":{"detail":{"c-count":[{"exists":false}]}}}`, `{"detail":{"state":"running"}}`, true},
		{"Exists matching/only leaf nodes: object is not a leaf (exists false)", `{"data":{"detail":{"c-count":[{"exists":false}]}}}`, `{"detail":{"c-count":{"c1":100}}}`, true},
		{"Exists matching/only leaf nodes: object is not a leaf (exists true)", `{"data":{"detail":{"c-count":[{"exists":true}]}}}`, `{"detail":{"c-count":{"c1":100}}}`, false},
		{"Exists matching/array of scalars is a leaf", `{"data":{"tags":[{"exists":true}]}}`, `{"tags":["a"]}`, true},
		{"Exists matching/empty array has no leaf", `{"data":{"tags":[{"exists":false}]}}`, `{"tags":[]}`, true},
		{"Exists matching/true or false always holds", `{"data":{"x":[{"exists":true},{"exists":false}]}}`, `{}`, true},
		{"Exists matching/or'ed with a value", `{"data":{"x":[{"exists":false},"y"]}}`, `{"x":"y"}`, true},
		{"Wildcard/Simple*Service", `{"data":{"source":[{"wildcard":"Simple*Service"}]}}`, `{"source":"SimpleQueueService"}`, true},
		{"Wildcard/zero characters", `{"data":{"source":[{"wildcard":"Simple*Service"}]}}`, `{"source":"SimpleService"}`, true},
		{"Wildcard/anchored at both ends", `{"data":{"source":[{"wildcard":"Simple*Service"}]}}`, `{"source":"ASimpleQueueService"}`, false},
		{"Wildcard/*.png ends with .png", `{"data":{"f":[{"wildcard":"*.png"}]}}`, `{"f":"a.png"}`, true},
		{"Wildcard/*Title* contains Title", `{"data":{"f":[{"wildcard":"*Title*"}]}}`, `{"f":"MyTitleHere"}`, true},
		{"Wildcard/dir/*.png", `{"data":{"EventBusArn":[{"wildcard":"dir/*.png"}]}}`, `{"EventBusArn":"dir/a/b.png"}`, true},
		{"Wildcard/only *", `{"data":{"f":[{"wildcard":"*"}]}}`, `{"f":""}`, true},
		{"Wildcard/only string values", `{"data":{"f":[{"wildcard":"*"}]}}`, `{"f":1}`, false},
		{"Wildcard/parts do not overlap", `{"data":{"f":[{"wildcard":"ab*ba"}]}}`, `{"f":"aba"}`, false},
		{"Wildcard/escaped asterisk is literal", `{"data":{"f":[{"wildcard":"a\\*b"}]}}`, `{"f":"a*b"}`, true},
		{"Wildcard/escaped asterisk is not a wildcard", `{"data":{"f":[{"wildcard":"a\\*b"}]}}`, `{"f":"axb"}`, false},
		{"Wildcard/escaped backslash is literal", `{"data":{"f":[{"wildcard":"a\\\\*"}]}}`, `{"f":"a\\bc"}`, true},
		{"Wildcard/no wildcard is exact", `{"data":{"f":[{"wildcard":"abc"}]}}`, `{"f":"abcd"}`, false},
		{"Wildcard/multi-byte characters", `{"data":{"f":[{"wildcard":"é*ü"}]}}`, `{"f":"éxxü"}`, true},
		// Arrays in EventBridge event patterns and "Matching null values and
		// empty strings".
		{"Arrays/any element of the event array", `{"data":{"resources":["arn:2"]}}`, `{"resources":["arn:1","arn:2"]}`, true},
		{"Arrays/no element", `{"data":{"resources":["arn:3"]}}`, `{"resources":["arn:1","arn:2"]}`, false},
		{"Arrays/objects inside arrays", `{"data":{"employees":{"firstName":["Anna"]}}}`, `{"employees":[{"firstName":"John"},{"firstName":"Anna"}]}`, true},
		{"Arrays/nested arrays", `{"data":{"a":["x"]}}`, `{"a":[["y"],["x"]]}`, true},
		{"Null values/responseElements is null", `{"data":{"detail":{"responseElements":[null]}}}`, `{"detail":{"eventVersion":"","responseElements":null}}`, true},
		{"Empty strings/eventVersion is empty", `{"data":{"detail":{"eventVersion":[""]}}}`, `{"detail":{"eventVersion":"","responseElements":null}}`, true},
		// "$or" examples from event-ruler, the engine behind EventBridge.
		{"$or/source and metricName", `{"data":{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization"]},{"namespace":["AWS/EC2"]}]}}`, `{"source":"aws.cloudwatch","metricName":"CPUUtilization"}`, true},
		{"$or/source missing", `{"data":{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization"]},{"namespace":["AWS/EC2"]}]}}`, `{"metricName":"CPUUtilization"}`, false},
		{"$or/branch with an and inside", `{"data":{"$or":[{"metricName":["x"]},{"metricType":["MetricType"],"namespace":["AWS/EC2"]}]}}`, `{"metricType":"MetricType","namespace":"AWS/EC2"}`, true},
		{"$or/and inside fails", `{"data":{"$or":[{"metricName":["x"]},{"metricType":["MetricType"],"namespace":["AWS/EC2"]}]}}`, `{"metricType":"MetricType"}`, false},
		{"$or/parallel or groups", `{"data":{"$or":[{"a":["1"]},{"b":["1"]}],"detail":{"$or":[{"c":["1"]},{"d":["1"]}]}}}`, `{"b":"1","detail":{"c":"1"}}`, true},
		{"$or/parallel or groups, one fails", `{"data":{"$or":[{"a":["1"]},{"b":["1"]}],"detail":{"$or":[{"c":["1"]},{"d":["1"]}]}}}`, `{"b":"1","detail":{"e":"1"}}`, false},
		{"$or/nested or", `{"data":{"$or":[{"a":["1"]},{"b":["1"],"$or":[{"c":[1234]},{"d":[1000]}]}]}}`, `{"b":"1","d":1000}`, true},
		{"$or/at the top level", `{"$or":[{"partitionKey":["2"]},{"data":{"a":["1"]}}]}`, `{"a":"1"}`, true},
	})
}

// TestDataDecoding covers spec 13.3: how the record's data is read.
func TestDataDecoding(t *testing.T) {
	runMatchCases(t, []matchCase{
		{"non-JSON data never matches a data pattern", `{"data":{"a":[{"exists":false}]}}`, `not json`, false},
		{"truncated JSON is not JSON", `{"data":{"a":["x"]}}`, `{"a":"x"`, false},
		{"trailing data is not JSON", `{"data":{"a":["x"]}}`, `{"a":"x"} {}`, false},
		{"invalid UTF-8 is not JSON", `{"data":{"a":["x"]}}`, "{\"a\":\"x\",\"b\":\"\xff\"}", false},
		{"control character in a string is not JSON", `{"data":{"a":["x"]}}`, "{\"a\":\"x\",\"b\":\"\x01\"}", false},
		{"empty data is not JSON", `{"data":{"a":[{"exists":false}]}}`, ``, false},
		{"whitespace around the document", `{"data":{"a":["x"]}}`, " \n{\"a\":\"x\"}\t ", true},
		{"JSON scalar is not an object", `{"data":{"a":["x"]}}`, `"x"`, false},
		{"JSON scalar matched as a leaf", `{"data":["hello"]}`, `"hello"`, true},
		{"JSON number matched as a leaf", `{"data":[{"numeric":[">",1]}]}`, `2`, true},
		{"escaped key and value", `{"data":{"name":["Alice"]}}`, `{"na\u006de":"Al\u0069ce"}`, true},
		{"escaped surrogate pair", `{"data":{"e":["😀"]}}`, `{"e":"\ud83d\ude00"}`, true},
		{"escaped quote and backslash", `{"data":{"q":["a\"b\\c"]}}`, `{"q":"a\"b\\c"}`, true},
		{"unknown keys are skipped", `{"data":{"a":["x"]}}`, `{"z":{"y":[1,{"q":null}],"w":true},"a":"x"}`, true},
		{"key order does not matter", `{"data":{"a":["x"],"b":["y"]}}`, `{"b":"y","c":1,"a":"x"}`, true},
		{"dotted key is not a path", `{"data":{"a":{"b":["x"]}}}`, `{"a.b":"x"}`, false},
		{"many sibling fields use the index", `{"data":{"a":["1"],"b":["1"],"c":["1"],"d":["1"],"e":["1"],"f":["1"],"g":["1"],"h":["1"],"i":["1"],"j":["1"]}}`, `{"a":"1","b":"1","c":"1","d":"1","e":"1","f":"1","g":"1","h":"1","i":"1","j":"1"}`, true},
	})
}

func TestMetadata(t *testing.T) {
	arrival := time.Date(2018, 12, 17, 22, 10, 50, 987e6, time.UTC)
	rec := filter.Record{
		PartitionKey:                "1",
		SequenceNumber:              "49590338271490256608559692538361571095921575989136588898",
		ApproximateArrivalTimestamp: arrival,
		Data:                        []byte("not json"),
	}
	cases := []struct {
		name    string
		pattern string
		want    bool
	}{
		{"partitionKey equals", `{"partitionKey":["1"]}`, true},
		{"partitionKey differs", `{"partitionKey":["2"]}`, false},
		{"metadata alone matches non-JSON data (spec 13.3)", `{"partitionKey":[{"prefix":"1"}]}`, true},
		{"metadata and data on non-JSON data", `{"partitionKey":["1"],"data":{"a":[{"exists":false}]}}`, false},
		{"sequenceNumber is a string", `{"sequenceNumber":[{"prefix":"4959"}]}`, true},
		{"approximateArrivalTimestamp is a number", `{"approximateArrivalTimestamp":[{"numeric":[">=",1545084650,"<",1545084651]}]}`, true},
		{"approximateArrivalTimestamp text", `{"approximateArrivalTimestamp":[1545084650.987]}`, true},
		{"Lambda example partitionKey and Location", `{"partitionKey":["1"],"data":{"Location":["Los Angeles"]}}`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := mustCompile(t, tc.pattern)
			if got := f.Match(rec); got != tc.want {
				t.Errorf("pattern %s: got %v, want %v", tc.pattern, got, tc.want)
			}
		})
	}

	t.Run("Lambda example partitionKey and Location on JSON data", func(t *testing.T) {
		f := mustCompile(t, `{"partitionKey":["1"],"data":{"Location":["Los Angeles"]}}`)
		r := rec
		r.Data = []byte(`{"Location":"Los Angeles"}`)
		if got := f.Match(r); !got {
			t.Errorf("got %v, want true", got)
		}
	})
	t.Run("zero fields are absent", func(t *testing.T) {
		f := mustCompile(t, `{"partitionKey":[{"exists":false}],"sequenceNumber":[{"exists":false}],"approximateArrivalTimestamp":[{"exists":false}]}`)
		if got := f.Match(filter.Record{}); !got {
			t.Errorf("got %v, want true", got)
		}
	})
	t.Run("MatchEventRecord", func(t *testing.T) {
		f := mustCompile(t, `{"partitionKey":["1"],"data":{"type":["buy"]}}`)
		r := &events.KinesisEventRecord{Kinesis: events.KinesisRecord{PartitionKey: "1", Data: []byte(`{"type":"buy"}`)}}
		if got := f.MatchEventRecord(r); !got {
			t.Errorf("got %v, want true", got)
		}
	})
}

func TestNoPatternsMatchEverything(t *testing.T) {
	var nilFilter *filter.Filter
	empty := mustCompile(t)
	for _, f := range []*filter.Filter{nilFilter, empty} {
		if got := f.Match(filter.Record{Data: []byte("x")}); !got {
			t.Errorf("got %v, want true", got)
		}
		if got := f.Len(); got != 0 {
			t.Errorf("Len: got %d, want 0", got)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	cases := []struct {
		name     string
		pattern  string
		wantPath string
		wantText string
	}{
		{"not JSON", `{"data": buy}`, "", "not valid JSON"},
		{"empty pattern", ``, "", "not valid JSON"},
		{"data after the object", `{"data":{"a":["x"]}} {}`, "", "data after"},
		{"not an object", `["x"]`, "", "must be a JSON object"},
		{"empty object", `{}`, "", "empty object"},
		{"empty data object", `{"data":{}}`, "data", "empty object"},
		{"unknown top-level field", `{"body":{"a":["x"]}}`, "body", "unknown field"},
		{"metadata field with an object", `{"partitionKey":{"a":["x"]}}`, "partitionKey", "must be an array"},
		{"scalar field", `{"data":{"a":"x"}}`, "data.a", "must be an object or an array"},
		{"empty array", `{"data":{"a":[]}}`, "data.a", "empty array"},
		{"nested array", `{"data":{"a":[["x"]]}}`, "data.a[0]", "must be a string, number"},
		{"unknown operator", `{"data":{"a":[{"regex":"x"}]}}`, "data.a[0].regex", "unknown operator"},
		{"two operators in one object", `{"data":{"a":[{"prefix":"x","suffix":"y"}]}}`, "data.a[0]", "exactly one key"},
		{"prefix takes a string", `{"data":{"a":[{"prefix":1}]}}`, "data.a[0].prefix", "takes a string"},
		{"equals-ignore-case takes a string", `{"data":{"a":[{"equals-ignore-case":["x"]}]}}`, "data.a[0].equals-ignore-case", "takes a string"},
		{"exists takes a boolean", `{"data":{"a":[{"exists":"yes"}]}}`, "data.a[0].exists", "true or false"},
		{"numeric unknown operator", `{"data":{"a":[{"numeric":["<>",1]}]}}`, "data.a[0].numeric[0]", "must be one of"},
		{"numeric value is a string", `{"data":{"a":[{"numeric":["<","1"]}]}}`, "data.a[0].numeric[1]", "must be a number"},
		{"numeric three terms", `{"data":{"a":[{"numeric":[">",1,"<"]}]}}`, "data.a[0].numeric", `takes ["op", n]`},
		{"numeric range upside down", `{"data":{"a":[{"numeric":[">",20,"<=",10]}]}}`, "data.a[0].numeric", "bottom must be less"},
		{"numeric range with wrong order", `{"data":{"a":[{"numeric":["<",10,">",1]}]}}`, "data.a[0].numeric[0]", "a range is"},
		{"numeric equals with a second term", `{"data":{"a":[{"numeric":["=",1,"<",2]}]}}`, "data.a[0].numeric[0]", "a range is"},
		{"numeric out of range", `{"data":{"a":[{"numeric":[">",1e10]}]}}`, "data.a[0].numeric[1]", "not in [-5e9, 5e9]"},
		{"wildcard consecutive", `{"data":{"a":[{"wildcard":"a**b"}]}}`, "data.a[0].wildcard", "consecutive wildcard"},
		{"wildcard bad escape", `{"data":{"a":[{"wildcard":"a\\b"}]}}`, "data.a[0].wildcard", "backslash"},
		{"wildcard trailing backslash", `{"data":{"a":[{"wildcard":"a\\"}]}}`, "data.a[0].wildcard", "backslash"},
		{"cidr invalid", `{"data":{"a":[{"cidr":"10.0.0.0/33"}]}}`, "data.a[0].cidr", "CIDR"},
		{"anything-but mixed list", `{"data":{"a":[{"anything-but":["x",1]}]}}`, "data.a[0].anything-but[1]", "only strings or only numbers"},
		{"anything-but empty list", `{"data":{"a":[{"anything-but":[]}]}}`, "data.a[0].anything-but", "empty"},
		{"anything-but null", `{"data":{"a":[{"anything-but":null}]}}`, "data.a[0].anything-but", "takes a string"},
		{"anything-but empty prefix", `{"data":{"a":[{"anything-but":{"prefix":""}}]}}`, "data.a[0].anything-but.prefix", "empty prefix"},
		{"anything-but unknown operator", `{"data":{"a":[{"anything-but":{"numeric":[">",1]}}]}}`, "data.a[0].anything-but.numeric", "takes prefix"},
		{"anything-but wildcard consecutive", `{"data":{"a":[{"anything-but":{"wildcard":["*x","a**"]}}]}}`, "data.a[0].anything-but.wildcard[1]", "consecutive"},
		{"$or not an array", `{"data":{"$or":{"a":["x"]}}}`, "data.$or", "must be an array"},
		{"$or with one object", `{"data":{"$or":[{"a":["x"]}]}}`, "data.$or", "at least two"},
		{"$or with a non-object", `{"data":{"$or":[{"a":["x"]},"b"]}}`, "data.$or[1]", "only contain objects"},
		{"$or with an operator as field", `{"data":{"$or":[{"a":["x"]},{"prefix":["b"]}]}}`, "data.$or[1].prefix", "operator name"},
		{"error names a quoted key", `{"data":{"a b":[]}}`, `data["a b"]`, "empty array"},
		{"too long", `{"data":{"a":["` + strings.Repeat("x", filter.MaxPatternLength) + `"]}}`, "", "more than 4096"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := filter.Compile([]string{`{"data":{"ok":["x"]}}`, tc.pattern})
			if !errors.Is(err, filter.ErrInvalidPattern) {
				t.Fatalf("got error %v, want one wrapping ErrInvalidPattern", err)
			}
			var pe *filter.PatternError
			if !errors.As(err, &pe) {
				t.Fatalf("got %T, want *PatternError", err)
			}
			if pe.Index != 1 || pe.Path != tc.wantPath || !strings.Contains(pe.Reason, tc.wantText) {
				t.Errorf("got index %d path %q reason %q, want 1, %q, containing %q", pe.Index, pe.Path, pe.Reason, tc.wantPath, tc.wantText)
			}
		})
	}
}

func TestPatternErrorMessage(t *testing.T) {
	_, err := filter.Compile([]string{`{"data":{"price":[{"numeric":["<>",10]}]}}`})
	want := `filter: invalid pattern 0 at data.price[0].numeric[0]: numeric operator must be one of =, <, <=, >, >= (got "<>")`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestLimits(t *testing.T) {
	pat := `{"data":{"a":["x"]}}`
	n := func(k int) []string { return repeat(pat, k) }
	cases := []struct {
		name     string
		patterns []string
		opts     []filter.Option
		wantErr  error
	}{
		{"5 patterns with the default quota", n(5), nil, nil},
		{"6 patterns with the default quota", n(6), nil, filter.ErrInvalidPattern},
		{"10 patterns with MaxPatterns(10)", n(10), []filter.Option{filter.MaxPatterns(10)}, nil},
		{"11 patterns with MaxPatterns(10)", n(11), []filter.Option{filter.MaxPatterns(10)}, filter.ErrInvalidPattern},
		{"MaxPatterns(11)", n(1), []filter.Option{filter.MaxPatterns(11)}, filter.ErrInvalidOption},
		{"MaxPatterns(0)", n(1), []filter.Option{filter.MaxPatterns(0)}, filter.ErrInvalidOption},
		{"4096 characters", []string{`{"data":{"a":["` + strings.Repeat("é", filter.MaxPatternLength-19) + `"]}}`}, nil, nil},
		{"4097 characters", []string{`{"data":{"a":["` + strings.Repeat("é", filter.MaxPatternLength-18) + `"]}}`}, nil, filter.ErrInvalidPattern},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := filter.Compile(tc.patterns, tc.opts...)
			if tc.wantErr == nil && err != nil || !errors.Is(err, tc.wantErr) {
				t.Errorf("got %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// TestWildcardNoBlowup would not finish if wildcard matching backtracked
// exponentially: many wildcards against a long value that almost matches.
func TestWildcardNoBlowup(t *testing.T) {
	pat := `{"data":{"f":[{"wildcard":"` + strings.Repeat("a*", 200) + `b"}]}}`
	f := mustCompile(t, pat)
	data := []byte(`{"f":"` + strings.Repeat("a", 100_000) + `"}`)
	for range 10 {
		if f.Match(filter.Record{Data: data}) {
			t.Fatal("got true, want false")
		}
	}
}

// TestDeepData checks that nesting is bounded like encoding/json's.
func TestDeepData(t *testing.T) {
	f := mustCompile(t, `{"data":{"a":[{"exists":false}]}}`)
	ok := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	deep := "[" + ok + "]"
	if got := f.Match(filter.Record{Data: []byte(ok)}); !got {
		t.Errorf("depth 10000: got %v, want true", got)
	}
	if got := f.Match(filter.Record{Data: []byte(deep)}); got {
		t.Errorf("depth 10001: got %v, want false", got)
	}
}

func TestConcurrentMatch(t *testing.T) {
	f := mustCompile(t, `{"data":{"type":["buy"]}}`, `{"data":{"n":[{"numeric":[">",5]}]}}`)
	done := make(chan bool)
	for i := range 4 {
		go func() {
			ok := true
			for j := range 1000 {
				want := (i+j)%2 == 0
				data := `{"type":"sell","n":1}`
				if want {
					data = `{"type":"buy","n":1}`
				}
				if f.Match(filter.Record{Data: []byte(data)}) != want {
					ok = false
				}
			}
			done <- ok
		}()
	}
	for range 4 {
		if !<-done {
			t.Error("concurrent Match gave a wrong answer")
		}
	}
}
