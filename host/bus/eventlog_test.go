package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/testenv"
)

// foreignLog is an event log as another publisher might write it: its
// own spacing, an empty array, strings holding brackets, commas, quotes
// and escapes.
const foreignLog = ` [ {"timestamp": "2025-11-03T10:30:48", "agent": "py", "type": "false_alarm", "data": {"container": "a", "reason": "x ] y"}},
  {"timestamp": "2025-11-03T10:30:49", "agent": "py", "type": "false_alarm", "data": {"container": "b", "reason": "q \"}]\\\" ,{", "tags": []}} ,
{"timestamp":"2025-11-03T10:30:50","agent":"py","type":"false_alarm","data":{"container":"c","n":1.50,"nested":[[1,2],{"k":[]}]}}
] `

func TestEventLogKeepsOtherWriters(t *testing.T) {
	foreignEntries := []string{
		`{"timestamp": "2025-11-03T10:30:48", "agent": "py", "type": "false_alarm", "data": {"container": "a", "reason": "x ] y"}}`,
		`{"timestamp": "2025-11-03T10:30:49", "agent": "py", "type": "false_alarm", "data": {"container": "b", "reason": "q \"}]\\\" ,{", "tags": []}}`,
		`{"timestamp":"2025-11-03T10:30:50","agent":"py","type":"false_alarm","data":{"container":"c","n":1.50,"nested":[[1,2],{"k":[]}]}}`,
	}
	tests := []struct {
		name    string
		write   func(ctx context.Context, c redis.UniversalClient, key string) error
		wantOld []string // entries kept from before, ahead of ours
	}{
		{"rewritten array", func(ctx context.Context, c redis.UniversalClient, key string) error {
			return c.Set(ctx, key, foreignLog, time.Hour).Err()
		}, foreignEntries},
		{"deleted", func(ctx context.Context, c redis.UniversalClient, key string) error {
			return c.Del(ctx, key).Err()
		}, nil},
		{"not a JSON array", func(ctx context.Context, c redis.UniversalClient, key string) error {
			return c.Set(ctx, key, `{"not": "an array"}`, time.Hour).Err()
		}, nil},
		{"unterminated array", func(ctx context.Context, c redis.UniversalClient, key string) error {
			return c.Set(ctx, key, `[{"a": "]"}, {"b": 1}`, time.Hour).Err()
		}, nil},
		{"empty array", func(ctx context.Context, c redis.UniversalClient, key string) error {
			return c.Set(ctx, key, `[]`, time.Hour).Err()
		}, nil},
		{"a list, not a string", func(ctx context.Context, c redis.UniversalClient, key string) error {
			if err := c.Del(ctx, key).Err(); err != nil {
				return err
			}
			return c.RPush(ctx, key, "x").Err()
		}, nil},
	}
	forEachBackend(t, func(t *testing.T, client redis.UniversalClient) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := context.Background()
				flushAll(t, client)
				b := newBus(t, client, Options{})
				key := protocol.EventLogKey(protocol.TypeFalseAlarm)

				publishFalseAlarms(t, b, "before", 2)
				if err := tt.write(ctx, client, key); err != nil {
					t.Fatalf("foreign write: %v", err)
				}
				ours := publishFalseAlarms(t, b, "after", 2)

				want := "[" + strings.Join(append(append([]string(nil), tt.wantOld...), ours...), ",") + "]"
				got, err := client.Get(ctx, key).Result()
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Errorf("GET %s =\n%s\nwant\n%s", key, got, want)
				}
			})
		}
	})
}

// TestEventLogAppendsByCutting checks the array the script cuts and
// appends, batch after batch, against the same envelopes joined whole:
// batches that fill the log, overflow it, replace it at once and more.
func TestEventLogAppendsByCutting(t *testing.T) {
	forEachBackend(t, func(t *testing.T, client redis.UniversalClient) {
		ctx := context.Background()
		flushAll(t, client)
		logger, rereads := rereadCounter(t)
		b := newBus(t, client, Options{FlushInterval: time.Hour, MaxBatch: 1000, Logger: logger})
		key := protocol.EventLogKey(protocol.TypeFalseAlarm)
		var all []string
		for i, n := range []int{1, 1, 37, 61, 1, 2, 99, 100, 3, 150, 1, 100} {
			all = append(all, publishFalseAlarms(t, b, fmt.Sprintf("c%d", i), n)...)
			want := "[" + strings.Join(all[max(0, len(all)-protocol.EventLogMax):], ",") + "]"
			if got := client.Get(ctx, key).Val(); got != want {
				t.Fatalf("after batch %d of %d: GET %s =\n%s\nwant\n%s", i, n, key, got, want)
			}
			if got := client.LRange(ctx, eventLogListKey(protocol.TypeFalseAlarm), 0, -1).Val(); !slices.Equal(got, all[max(0, len(all)-protocol.EventLogMax):]) {
				t.Fatalf("after batch %d of %d: the list holds %d envelopes, not the log's", i, n, len(got))
			}
		}
		if n := rereads.Load(); n > 0 {
			t.Errorf("its own log was taken for another writer's %d times", n)
		}
	})
}

// rereadCounter returns a Bus logger that counts the event logs found
// rewritten by another writer, and re-read.
func rereadCounter(t *testing.T) (hclog.Logger, *atomic.Int64) {
	var n atomic.Int64
	out := writerFunc(func(p []byte) (int, error) {
		if strings.Contains(string(p), "rewritten by another writer") {
			n.Add(1)
		}
		return len(p), nil
	})
	return hclog.New(&hclog.LoggerOptions{Name: t.Name(), Level: hclog.Warn, Output: out}), &n
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestEventLogTellsAnotherWritersArray covers rewrites the script's cheap
// check must catch — the same length with another first or last envelope,
// a log an older hemostatd wrote without its length — and the one it
// may take for its own, which it then reads whole as before.
func TestEventLogTellsAnotherWritersArray(t *testing.T) {
	// flip changes one byte of the array's envelope i (-1: the last),
	// keeping its length.
	flip := func(i int) func(ctx context.Context, c redis.UniversalClient, key string) error {
		return func(ctx context.Context, c redis.UniversalClient, key string) error {
			var entries []json.RawMessage
			if err := json.Unmarshal([]byte(c.Get(ctx, key).Val()), &entries); err != nil {
				return err
			}
			if i < 0 {
				i += len(entries)
			}
			entries[i] = json.RawMessage(strings.Replace(string(entries[i]), `"transient"`, `"Transient"`, 1))
			raw := make([]string, len(entries))
			for k, e := range entries {
				raw[k] = string(e)
			}
			return c.Set(ctx, key, "["+strings.Join(raw, ",")+"]", time.Hour).Err()
		}
	}
	tests := []struct {
		name    string
		write   func(ctx context.Context, c redis.UniversalClient, key string) error
		changed int  // the envelope of the first two whose reason now reads "Transient"; -1: none
		reread  bool // the log is taken for another writer's
	}{
		{"same length, another first envelope", flip(0), 0, true},
		{"same length, another last envelope", flip(-1), 1, true},
		{"written by an older hemostatd, unchanged", func(ctx context.Context, c redis.UniversalClient, key string) error {
			return c.Del(ctx, eventLogSizeKey(protocol.TypeFalseAlarm)).Err()
		}, -1, false},
		{"another length kept, the array unchanged", func(ctx context.Context, c redis.UniversalClient, key string) error {
			return c.Set(ctx, eventLogSizeKey(protocol.TypeFalseAlarm), 7, time.Hour).Err()
		}, -1, false},
		{"written by an older hemostatd, then by another writer", func(ctx context.Context, c redis.UniversalClient, key string) error {
			if err := c.Del(ctx, eventLogSizeKey(protocol.TypeFalseAlarm)).Err(); err != nil {
				return err
			}
			return flip(1)(ctx, c, key)
		}, 1, true},
	}
	forEachBackend(t, func(t *testing.T, client redis.UniversalClient) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := context.Background()
				flushAll(t, client)
				logger, rereads := rereadCounter(t)
				b := newBus(t, client, Options{Logger: logger})
				key := protocol.EventLogKey(protocol.TypeFalseAlarm)

				before := publishFalseAlarms(t, b, "before", 2)
				if err := tt.write(ctx, client, key); err != nil {
					t.Fatalf("foreign write: %v", err)
				}
				if tt.changed >= 0 {
					before[tt.changed] = strings.Replace(before[tt.changed], `"transient"`, `"Transient"`, 1)
				}
				after := publishFalseAlarms(t, b, "after", 2)

				want := "[" + strings.Join(append(before, after...), ",") + "]"
				if got := client.Get(ctx, key).Val(); got != want {
					t.Errorf("GET %s =\n%s\nwant\n%s", key, got, want)
				}
				if got := client.LRange(ctx, eventLogListKey(protocol.TypeFalseAlarm), 0, -1).Val(); !slices.Equal(got, append(before, after...)) {
					t.Errorf("the list behind the log holds\n%s\nwant the log's envelopes", strings.Join(got, "\n"))
				}
				if got := rereads.Load() > 0; got != tt.reread {
					t.Errorf("taken for another writer's: %v, want %v", got, tt.reread)
				}
				if got, want := client.Get(ctx, eventLogSizeKey(protocol.TypeFalseAlarm)).Val(), strconv.Itoa(len(want)); got != want {
					t.Errorf("the log's recorded length is %s, want %s", got, want)
				}
			})
		}
	})
}

func TestEventLogFirstWriteKeepsExistingLog(t *testing.T) {
	client := testenvClient(t)
	ctx := context.Background()
	key := protocol.EventLogKey(protocol.TypeFalseAlarm)
	// 150 envelopes written by an older agent, before hemostatd's first
	// write: the newest of them stay, up to the cap.
	var old []string
	for i := range 150 {
		old = append(old, `{"i":`+strings.Repeat(" ", i%3)+itoa(i)+`}`)
	}
	if err := client.Set(ctx, key, "["+strings.Join(old, ",")+"]", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	b := newBus(t, client, Options{})
	ours := publishFalseAlarms(t, b, "new", 3)

	want := "[" + strings.Join(append(old[150-protocol.EventLogMax+3:], ours...), ",") + "]"
	if got := client.Get(ctx, key).Val(); got != want {
		t.Errorf("GET %s =\n%s\nwant\n%s", key, got, want)
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// publishFalseAlarms publishes n false alarms, flushes, and returns them
// as published.
func publishFalseAlarms(t *testing.T, b *Bus, container string, n int) []string {
	t.Helper()
	var out []string
	for range n {
		env, err := b.Publish(context.Background(), protocol.AgentAnalyzer, protocol.TypeFalseAlarm,
			protocol.FalseAlarm{Container: container, Reason: "transient"})
		if err != nil {
			t.Fatalf("Publish: %v", err)
		}
		raw, _ := json.Marshal(env)
		out = append(out, string(raw))
	}
	if err := b.Flush(context.Background()); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	return out
}

func TestEventLogFlushedOnCloseAndOnInterval(t *testing.T) {
	client := testenvClient(t)
	ctx := context.Background()
	key := protocol.EventLogKey(protocol.TypeFalseAlarm)

	// A long window: only Close writes.
	b := New(client, Options{FlushInterval: time.Hour, Logger: testLogger(t)})
	for range 3 {
		if _, err := b.Publish(ctx, protocol.AgentAnalyzer, protocol.TypeFalseAlarm, protocol.FalseAlarm{Container: "c"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := client.Exists(ctx, key).Val(); n != 0 {
		t.Fatalf("the log was written before its window ended")
	}
	if err := b.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := len(readEventLog(t, client, protocol.TypeFalseAlarm)); got != 3 {
		t.Fatalf("after Close the log holds %d envelopes, want 3", got)
	}

	// The default window: the flusher writes without being asked.
	b2 := newBus(t, client, Options{})
	if _, err := b2.Publish(ctx, protocol.AgentAnalyzer, protocol.TypeFalseAlarm, protocol.FalseAlarm{Container: "c"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the flusher to write the log", func() bool {
		return len(readEventLog(t, client, protocol.TypeFalseAlarm)) == 4
	})

	// MaxBatch queued appends are written at once, long window or not.
	b3 := newBus(t, client, Options{FlushInterval: time.Hour, MaxBatch: 5})
	for range 5 {
		if _, err := b3.Publish(ctx, protocol.AgentAnalyzer, protocol.TypeFalseAlarm, protocol.FalseAlarm{Container: "c"}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "a full batch to be written", func() bool {
		return len(readEventLog(t, client, protocol.TypeFalseAlarm)) == 9
	})
}

func TestEventLogSurvivesOutage(t *testing.T) {
	srv := testenv.StartRedis(t)
	client := srv.Client(t)
	ctx := context.Background()
	b := newBus(t, client, Options{FlushInterval: time.Hour})
	published := make(map[string]bool)
	for range 3 {
		env, err := b.Publish(ctx, protocol.AgentAnalyzer, protocol.TypeFalseAlarm, protocol.FalseAlarm{Container: "c"})
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(env)
		published[string(raw)] = true
	}
	srv.Stop(t)
	if err := b.Flush(ctx); err == nil {
		t.Fatal("Flush succeeded with Redis stopped")
	}
	if _, err := b.Publish(ctx, protocol.AgentAnalyzer, protocol.TypeFalseAlarm, protocol.FalseAlarm{Container: "c"}); err == nil {
		t.Fatal("Publish succeeded with Redis stopped")
	}
	srv.Restart(t)
	if err := b.Flush(ctx); err != nil {
		t.Fatalf("Flush after restart: %v", err)
	}
	logged := readEventLog(t, client, protocol.TypeFalseAlarm)
	if len(logged) != 3 {
		t.Fatalf("log holds %d envelopes after the outage, want the 3 published before it", len(logged))
	}
	for _, e := range logged {
		if !published[string(e)] {
			t.Errorf("log holds an envelope that was not published: %s", e)
		}
	}
}
