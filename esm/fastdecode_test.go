package esm_test

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/esmkit/esmkit/esm"
	"github.com/esmkit/esmkit/internal/testserver"
	"github.com/esmkit/esmkit/kinesistest"
)

// TestFastDecodeDeliversTheSameEvents runs the same stream, served over
// HTTP by kinesistest, through a real *kinesis.Client with the SDK's
// decoder and with FastDecode: the handler gets identical events.
func TestFastDecodeDeliversTheSameEvents(t *testing.T) {
	kc := kinesistest.New()
	srv := kinesistest.NewServer(kc)
	defer srv.Close()
	api := testserver.KinesisClient(t, srv.URL)
	arn := createStream(t, api, "fast", 2)
	recs := makeRecs("f", 500, 20)
	recs = append(recs, rec{Key: "ünïcode <&>", Data: "\x00\xff binary"}, rec{Key: "k", Data: ""})
	put(t, api, "fast", recs)

	seen := map[bool]map[string]string{}
	for _, fast := range []bool{false, true} {
		got := map[string]string{}
		var mu sync.Mutex
		c := newCollector(len(recs))
		c.onBatch = func(ev events.KinesisEvent) {
			mu.Lock()
			defer mu.Unlock()
			for _, r := range ev.Records {
				b, _ := json.Marshal(r)
				got[r.EventID] = string(b)
			}
		}
		stop := run(t, newMapping(t, api, arn, c.handle, esm.StartingPosition(esm.TrimHorizon), esm.BatchSize(100),
			esm.FastDecode(fast), esm.Name(fmt.Sprint("fast-", fast))))
		c.wait(t, time.Minute)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		checkExactlyOnceInOrder(t, c.records(), recs)
		seen[fast] = got
	}
	if len(seen[true]) != len(recs) {
		t.Fatalf("fast decode delivered %d records, want %d", len(seen[true]), len(recs))
	}
	for id, want := range seen[false] {
		if got := seen[true][id]; got != want {
			t.Errorf("record %s:\nfast %s\nSDK  %s", id, got, want)
		}
	}
}
