package esm_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/esmkit/esmkit/esm"
	"github.com/esmkit/esmkit/kinesistest"
)

// script decides an invocation's result from the call number and the ids
// (record data) in the batch. fail lists ids to report in batchItemFailures
// (their sequence numbers, or the raw identifier when prefixed with "="),
// err fails the whole invocation.
type script func(call int, ids []string) (fail []string, err error)

// invocations runs n records ("1".."n") through one shard with opts and the
// scripted handler for d of virtual time, and returns every invocation's ids
// in order, plus the ids that were delivered successfully.
func invocations(t *testing.T, n int, d time.Duration, s script, opts ...esm.Option) (calls [][]string) {
	t.Helper()
	kc := kinesistest.New()
	arn := createStream(t, kc, "f", 1)
	recs := make([]rec, n)
	for i := range recs {
		recs[i] = rec{Key: "k", Data: fmt.Sprint(i + 1)}
	}
	put(t, kc, "f", recs)
	var mu sync.Mutex
	h := func(_ context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
		ids := make([]string, len(ev.Records))
		seqOf := map[string]string{}
		for i, r := range ev.Records {
			ids[i] = string(r.Kinesis.Data)
			seqOf[ids[i]] = r.Kinesis.SequenceNumber
		}
		mu.Lock()
		calls = append(calls, ids)
		call := len(calls)
		mu.Unlock()
		fail, err := s(call, ids)
		var resp events.KinesisEventResponse
		for _, f := range fail {
			id, raw := strings.CutPrefix(f, "=")
			if !raw {
				id = seqOf[f]
			}
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.KinesisBatchItemFailure{ItemIdentifier: id})
		}
		return resp, err
	}
	opts = append([]esm.Option{esm.StartingPosition(esm.TrimHorizon), esm.BatchSize(n)}, opts...)
	stop := run(t, newMapping(t, kc, arn, h, opts...))
	time.Sleep(d)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	return append([][]string(nil), calls...)
}

var errBoom = errors.New("boom")

// failIDs fails any invocation containing one of ids.
func failIDs(ids ...string) script {
	return func(_ int, batch []string) ([]string, error) {
		for _, b := range batch {
			for _, id := range ids {
				if b == id {
					return nil, errBoom
				}
			}
		}
		return nil, nil
	}
}

func fmtCalls(calls [][]string) string {
	var b strings.Builder
	for i, c := range calls {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString("[" + strings.Join(c, ",") + "]")
	}
	return b.String()
}

func TestFailureHandlingChecklist(t *testing.T) {
	rbif := esm.FunctionResponseTypes(esm.ReportBatchItemFailuresType)
	tests := []struct {
		name string
		n    int
		s    script
		opts []esm.Option
		want string // the invocation sequence
	}{
		{"29 MaximumRetryAttempts=2 invokes three times then moves on", 2,
			failIDs("1"), []esm.Option{esm.MaximumRetryAttempts(2), esm.BatchSize(1)},
			"[1] [1] [1] [2]"},
		{"30 MaximumRetryAttempts=0 does not retry", 2,
			failIDs("1"), []esm.Option{esm.MaximumRetryAttempts(0), esm.BatchSize(1)},
			"[1] [2]"},
		{"35 empty batchItemFailures is success", 3,
			func(int, []string) ([]string, error) { return []string{}, nil }, []esm.Option{rbif},
			"[1,2,3]"},
		{"37 retry starts at the lowest reported record", 4,
			func(call int, _ []string) ([]string, error) {
				if call == 1 {
					return []string{"3", "2"}, nil
				}
				return nil, nil
			}, []esm.Option{rbif},
			"[1,2,3,4] [2,3,4]"},
		{"38 empty itemIdentifier retries the whole batch", 3,
			func(call int, _ []string) ([]string, error) {
				if call == 1 {
					return []string{"="}, nil
				}
				return nil, nil
			}, []esm.Option{rbif},
			"[1,2,3] [1,2,3]"},
		{"41 reported failures are ignored when ReportBatchItemFailures is off", 3,
			func(int, []string) ([]string, error) { return []string{"2"}, nil }, nil,
			"[1,2,3]"},
		{"42 unknown itemIdentifier retries the whole batch", 3,
			func(call int, _ []string) ([]string, error) {
				if call == 1 {
					return []string{"=12345"}, nil
				}
				return nil, nil
			}, []esm.Option{rbif},
			"[1,2,3] [1,2,3]"},
		{"43 a function error overrides batchItemFailures", 3,
			func(call int, _ []string) ([]string, error) {
				if call == 1 {
					return []string{"3"}, errBoom
				}
				return nil, nil
			}, []esm.Option{rbif},
			"[1,2,3] [1,2,3]"},
		{"44 a record always reported failed is discarded after two invocations", 3,
			func(_ int, ids []string) ([]string, error) {
				for _, id := range ids {
					if id == "2" {
						return []string{"2"}, nil
					}
				}
				return nil, nil
			}, []esm.Option{rbif, esm.MaximumRetryAttempts(1)},
			"[1,2,3] [2,3]"},
		{"45 bisect isolates one bad record", 4,
			failIDs("3"), []esm.Option{esm.BisectBatchOnFunctionError(true), esm.MaximumRetryAttempts(1)},
			"[1,2,3,4] [1,2] [3,4] [3] [3] [4]"},
		{"46 bisect splits to single records even with no retries", 4,
			failIDs("2", "3"), []esm.Option{esm.BisectBatchOnFunctionError(true), esm.MaximumRetryAttempts(0)},
			"[1,2,3,4] [1,2] [1] [2] [3,4] [3] [4]"},
		{"48 bisect with a partial response cuts at the reported record", 8,
			func(call int, _ []string) ([]string, error) {
				if call == 1 {
					return []string{"5"}, nil
				}
				return nil, nil
			}, []esm.Option{rbif, esm.BisectBatchOnFunctionError(true)},
			"[1,2,3,4,5,6,7,8] [5,6,7,8]"},
		{"49 bisect halves a batch with an invalid partial response", 4,
			func(call int, _ []string) ([]string, error) {
				if call == 1 {
					return []string{"="}, nil
				}
				return nil, nil
			}, []esm.Option{rbif, esm.BisectBatchOnFunctionError(true)},
			"[1,2,3,4] [1,2] [3,4]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				got := fmtCalls(invocations(t, tc.n, 5*time.Minute, tc.s, tc.opts...))
				if got != tc.want {
					t.Errorf("invocations:\ngot  %s\nwant %s", got, tc.want)
				}
			})
		})
	}
}

// Checklist 28: by default a failing batch is retried for as long as it
// fails, and later records of the shard wait.
func TestDefaultRetriesForever(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := invocations(t, 4, 10*time.Minute, failIDs("1"), esm.BatchSize(2))
		if len(calls) < 50 {
			t.Errorf("got %d invocations in 10 minutes, want the batch retried many times", len(calls))
		}
		for i, c := range calls {
			if strings.Join(c, ",") != "1,2" {
				t.Fatalf("invocation %d got [%s], want only the failing batch [1,2]", i+1, strings.Join(c, ","))
			}
		}
	})
}

// Checklist 31: records older than MaximumRecordAge are discarded without
// another invocation, and the shard moves on.
func TestMaximumRecordAgeDiscards(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kc := kinesistest.New()
		arn := createStream(t, kc, "age", 1)
		put(t, kc, "age", []rec{{Key: "k", Data: "old"}})
		start := time.Now()
		var mu sync.Mutex
		var lastOld time.Duration
		c := newCollector(1)
		c.fail = func(_ int, ev events.KinesisEvent) error {
			if string(ev.Records[0].Kinesis.Data) == "old" {
				mu.Lock()
				lastOld = time.Since(start)
				mu.Unlock()
				return errBoom
			}
			return nil
		}
		stop := run(t, newMapping(t, kc, arn, c.handle, esm.StartingPosition(esm.TrimHorizon), esm.BatchSize(1),
			esm.MaximumRecordAge(time.Minute)))
		time.Sleep(90 * time.Second)
		put(t, kc, "age", []rec{{Key: "k", Data: "new"}})
		c.wait(t, time.Minute)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		if lastOld > time.Minute {
			t.Errorf("expired record invoked at %v, want never after its age passed 1m", lastOld)
		}
		if got := c.records(); len(got) != 1 || got[0].Data != "new" {
			t.Errorf("delivered %v, want the new record", got)
		}
	})
}

// Checklist 32 and 47: throttles are retried without using up attempts and
// are never bisected.
func TestThrottlesDoNotCount(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := invocations(t, 4, 5*time.Minute, func(call int, _ []string) ([]string, error) {
			if call <= 5 {
				return nil, &esm.ThrottleError{Err: errors.New("429 TooManyRequestsException")}
			}
			return nil, nil
		}, esm.MaximumRetryAttempts(1), esm.BisectBatchOnFunctionError(true))
		if got, want := fmtCalls(calls), "[1,2,3,4] [1,2,3,4] [1,2,3,4] [1,2,3,4] [1,2,3,4] [1,2,3,4]"; got != want {
			t.Errorf("invocations:\ngot  %s\nwant %s", got, want)
		}
	})
}

func TestRetryOptionValidation(t *testing.T) {
	trim := esm.StartingPosition(esm.TrimHorizon)
	tests := []struct {
		name    string
		opt     esm.Option
		wantErr string
	}{
		{"retry attempts -2", esm.MaximumRetryAttempts(-2), "MaximumRetryAttempts -2 not in [-1, 10000]"},
		{"retry attempts 10001", esm.MaximumRetryAttempts(10001), "MaximumRetryAttempts 10001 not in [-1, 10000]"},
		{"retry attempts -1", esm.MaximumRetryAttempts(-1), ""},
		{"retry attempts 0", esm.MaximumRetryAttempts(0), ""},
		{"retry attempts 10000", esm.MaximumRetryAttempts(10000), ""},
		{"record age 30s", esm.MaximumRecordAge(30 * time.Second), "MaximumRecordAge 30s not -1 (infinite) or in [1m0s, 168h0m0s]"},
		{"record age 0", esm.MaximumRecordAge(0), "MaximumRecordAge 0s"},
		{"record age -1", esm.MaximumRecordAge(-1), ""},
		{"record age 60s", esm.MaximumRecordAge(60 * time.Second), ""},
		{"record age 604800s", esm.MaximumRecordAge(604800 * time.Second), ""},
		{"record age 604801s", esm.MaximumRecordAge(604801 * time.Second), "MaximumRecordAge 168h0m1s"},
		{"response types two", esm.FunctionResponseTypes(esm.ReportBatchItemFailuresType, "X"), "FunctionResponseTypes has 2 values"},
		{"response types unknown", esm.FunctionResponseTypes("X"), `FunctionResponseTypes value "X"`},
		{"response types empty", esm.FunctionResponseTypes(), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := esm.New(kinesistest.New(), testARN, nopHandler, trim, tc.opt)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !errors.Is(err, esm.ErrInvalidOption) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("New: got %v, want ErrInvalidOption containing %q", err, tc.wantErr)
			}
		})
	}
}
