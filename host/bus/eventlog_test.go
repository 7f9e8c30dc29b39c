package bus

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

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
				client.FlushAll(ctx)
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
