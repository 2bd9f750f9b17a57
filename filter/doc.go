// Package filter compiles Lambda FilterCriteria and matches Kinesis records
// against them.
//
// Compile takes the Pattern strings of a mapping's FilterCriteria; the
// Filter it returns reports, for each record, whether Lambda would deliver
// the record (it matches at least one pattern) or filter it out.
//
//	f, err := filter.Compile([]string{`{"data": {"order": {"type": ["buy"]}}}`})
//	...
//	if f.Match(filter.Record{PartitionKey: key, Data: payload}) { ... }
//
// # Patterns
//
// A pattern is a JSON object in the Amazon EventBridge event-pattern
// language, as Lambda uses it for Kinesis. Its top-level keys are "data",
// whose pattern applies to the record's payload decoded as JSON, and the
// metadata fields "partitionKey", "sequenceNumber" (strings) and
// "approximateArrivalTimestamp" (a number of Unix seconds such as
// 1545084650.987). Any other top-level key is rejected. Lambda's current
// Kinesis guide documents filtering on "data" only; earlier versions showed
// "partitionKey" too, so metadata keys are accepted here but are not
// portable to every Lambda behaviour.
//
// Inside a pattern, an object descends into the JSON object at that key, and
// an array lists the values or operators a leaf may match. Several fields in
// one object must all match (AND); several entries in one array are
// alternatives (OR); several patterns are alternatives too. A record's
// field that is an array matches if any element does, and objects inside
// arrays are searched as if the array were not there.
//
// # Operators
//
//	"Name": ["Alice"]                                 equals (byte for byte)
//	"Name": [""]                                      empty string
//	"UserID": [null]                                  null (not a missing field)
//	"n": [300], "ok": [true]                          numbers by their JSON text, booleans
//	"Name": [{"equals-ignore-case": "alice"}]         Unicode simple case folding
//	"Region": [{"prefix": "us-"}]                     also {"prefix": {"equals-ignore-case": "US-"}}
//	"FileName": [{"suffix": ".png"}]                  also {"suffix": {"equals-ignore-case": ".PNG"}}
//	"f": [{"wildcard": "dir/*.png"}]                  '*' is any run of characters
//	"Weather": [{"anything-but": "Raining"}]          a string, a number, or a list of either kind
//	"s": [{"anything-but": {"prefix": "init"}}]       also suffix, equals-ignore-case, wildcard;
//	                                                  each takes a string or a list of strings
//	"Price": [{"numeric": ["=", 100]}]                also <, <=, >, >=
//	"Price": [{"numeric": [">", 10, "<=", 20]}]       a range: > or >=, then < or <=
//	"ip": [{"cidr": "10.0.0.0/24"}]                   IPv4 or IPv6 block
//	"ProductName": [{"exists": true}]                 or false
//	"$or": [{"Location": ["NY"]}, {"Day": ["Mon"]}]   at least two objects; any may match
//
// The matching rules follow the Lambda and EventBridge documentation:
//
//   - Strings match exactly, without case folding or normalisation.
//   - A number in a value list matches the record's number with the same
//     JSON text: 300 does not match 300.0 or 3.0e2. Only "numeric" and
//     numeric "anything-but" compare values, after rounding both to six
//     decimal places; their operands must be in [-5e9, 5e9], and record
//     values outside that range never compare.
//   - "prefix", "suffix", "equals-ignore-case", "wildcard" and "cidr" match
//     only strings; "numeric" only numbers.
//   - "anything-but" needs the field: it never matches a missing field. A
//     string list lets numbers through and a number list lets strings
//     through.
//   - "exists" tests leaves only: an object is not a leaf, so
//     {"exists": true} does not match a field holding an object and
//     {"exists": false} does. An empty array holds no leaf.
//   - In "wildcard", '*' matches zero or more characters, consecutive
//     wildcards are an error, `\*` is a literal asterisk and `\\` a literal
//     backslash; any other backslash is an error. Matching takes time
//     proportional to the value's length times the pattern's, never more.
//
// # Records
//
// Match decodes a record's data at most once, only if some pattern has a
// "data" condition, and only as far as the patterns need: it validates the
// whole payload in one pass and tests the values at the paths the patterns
// name, without building a tree or allocating. Data that is not valid JSON
// (including invalid UTF-8 and nesting deeper than 10,000) never matches a
// pattern with a "data" condition, even {"exists": false}; Lambda drops
// such records. A pattern on metadata alone still matches them. A JSON
// scalar as data is a leaf: {"data": ["hello"]} matches the payload
// "hello", and no nested pattern matches it.
//
// # Limits
//
// Compile accepts at most 5 patterns, Lambda's default quota, or up to 10
// with MaxPatterns. A pattern is at most 4,096 characters. A pattern that
// is not a JSON object, has an empty object or array, an unknown operator,
// a misplaced operand or any of the errors above is rejected with a
// *PatternError that names the pattern's index, the path of the offending
// field (such as data.price[0].numeric[0]) and its value.
//
// # Deviations
//
// Where the documentation is silent this package follows event-ruler, the
// library behind EventBridge (a key given twice in one pattern object keeps
// its last value, as there), except:
//
//   - Unknown top-level keys are rejected rather than never matching.
//   - Fields in different elements of one array may satisfy one pattern
//     together: {"a": {"x": ["1"], "y": ["2"]}} matches
//     {"a": [{"x": "1"}, {"y": "2"}]}, which event-ruler's
//     array-consistent matching refuses.
//   - A plain string value that is an IP address matches only the same
//     text; event-ruler also matches other spellings of the same address.
//   - Keys containing dots are not confused with nested keys.
package filter
