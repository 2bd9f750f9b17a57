package esm_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/esmkit/esmkit/esm"
	"github.com/esmkit/esmkit/kinesistest"
)

// lockedBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestLogsNameEventsAndNeverData runs failures, discards and a reshard-free
// stream with a debug logger: the logs carry the documented event names and
// attributes, and never a record's data or partition key.
func TestLogsNameEventsAndNeverData(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf lockedBuffer
		logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		kc := kinesistest.New()
		arn := createStream(t, kc, "logs", 1)
		secret := "4111-1111-1111-1111"
		put(t, kc, "logs", []rec{{Key: "customer-" + secret, Data: `{"card":"` + secret + `"}`}, {Key: "k", Data: "ok"}})
		c := newCollector(1)
		c.fail = func(_ int, ev events.KinesisEvent) error {
			if strings.Contains(string(ev.Records[0].Kinesis.Data), secret) {
				return errors.New("declined")
			}
			return nil
		}
		stop := run(t, newMapping(t, kc, arn, c.handle, esm.StartingPosition(esm.TrimHorizon), esm.BatchSize(1),
			esm.MaximumRetryAttempts(1), esm.Logger(logger)))
		c.wait(t, time.Minute)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if strings.Contains(out, secret) {
			t.Errorf("logs contain record data or a partition key:\n%s", out)
		}
		for _, want := range []string{`"msg":"mapping.start"`, `"msg":"shard.start"`, `"msg":"batch.failed"`, `"msg":"batch.discarded"`,
			`"condition":"RetryAttemptsExhausted"`, `"first_sequence":`, `"attempt":`, `"shard":"shardId-000000000000"`, `"msg":"mapping.stop"`} {
			if !strings.Contains(out, want) {
				t.Errorf("logs lack %s", want)
			}
		}
	})
}
