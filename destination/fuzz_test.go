package destination_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/esmkit/esmkit/destination"
)

// FuzzUnmarshal checks Unmarshal, the one parser here. Invariants: it never
// panics; a document it accepts marshals without error (it accepts only
// what Send would send); and marshalling is a fixed point after one round
// trip: Marshal(Unmarshal(Marshal(Unmarshal(b)))) equals
// Marshal(Unmarshal(b)), for the SQS/SNS document and, with the payload,
// for the S3 document.
func FuzzUnmarshal(f *testing.F) {
	for _, name := range []string{"kinesis-record-sqs-sns.json", "kinesis-record-s3.json"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"version":"1.0"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		inv, err := destination.Unmarshal(b)
		if err != nil {
			return
		}
		inv.MappingUUID = "m"
		for _, marshal := range []func(*destination.Invocation) ([]byte, error){destination.MarshalRecord, destination.MarshalObject} {
			doc1, err := marshal(inv)
			if err != nil {
				t.Fatalf("marshalling an accepted document: %v", err)
			}
			inv2, err := destination.Unmarshal(doc1)
			if err != nil {
				t.Fatalf("Unmarshal(%s): %v", doc1, err)
			}
			inv2.MappingUUID = "m"
			doc2, err := marshal(inv2)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(doc1, doc2) {
				t.Fatalf("not a fixed point:\n%s\n%s", doc1, doc2)
			}
		}
	})
}
