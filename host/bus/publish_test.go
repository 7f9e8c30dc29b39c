package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/protocol"
)

// seqData is health_alert data that says who published it, in which
// order, and carries the JSON forms a re-encoding would change.
type seqData struct {
	Container string             `json:"container"`
	Issues    []string           `json:"issues"`
	Metrics   map[string]float64 `json:"metrics"`
	Empty     []string           `json:"empty"`
	Publisher int                `json:"publisher"`
	Seq       int                `json:"seq"`
}

func newSeqData(publisher, seq int) seqData {
	return seqData{
		Container: fmt.Sprintf("app-%d", publisher),
		Issues:    []string{protocol.IssueHighCPU(92.5)},
		Metrics:   map[string]float64{"cpu_pct": 92.5, "memory_pct": 1e-7, "big": 1e21},
		Empty:     []string{},
		Publisher: publisher,
		Seq:       seq,
	}
}

func TestConcurrentPublishersEventLog(t *testing.T) {
	forEachBackend(t, func(t *testing.T, client redis.UniversalClient) {
		const publishers, perPublisher = 8, 1000
		ctx := context.Background()
		raw := subscribeRaw(t, client, protocol.TypeHealthAlert)
		b := newBus(t, client, Options{})
		var got collector
		b.Subscribe(protocol.TypeHealthAlert, got.handle)
		startRun(t, b)
		waitSubscribed(t, client, 2, protocol.TypeHealthAlert)

		var wg sync.WaitGroup
		errs := make(chan error, publishers)
		for p := range publishers {
			wg.Go(func() {
				for i := range perPublisher {
					if _, err := b.Publish(ctx, protocol.AgentMonitor, protocol.TypeHealthAlert, newSeqData(p, i)); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("Publish: %v", err)
		}
		if err := b.Flush(ctx); err != nil {
			t.Fatalf("Flush: %v", err)
		}
		const total = publishers * perPublisher
		waitFor(t, "every envelope at the raw subscriber and the handler", func() bool {
			return len(raw.all()) == total && got.len() == total
		}, func() string {
			return fmt.Sprintf("raw subscriber %d, handler %d of %d", len(raw.all()), got.len(), total)
		})

		// Every envelope reached the raw subscriber and the handler, with
		// the fields the protocol requires.
		published := make(map[string]bool, total)
		for _, p := range raw.all() {
			published[p] = true
			checkEnvelope(t, []byte(p), protocol.AgentMonitor, protocol.TypeHealthAlert)
		}
		if len(published) != total {
			t.Errorf("raw subscriber saw %d distinct envelopes, want %d", len(published), total)
		}
		for _, env := range got.all() {
			enc, _ := json.Marshal(env)
			if !published[string(enc)] {
				t.Fatalf("handler received an envelope nobody published: %s", enc)
			}
		}

		// The log is a JSON array of the newest 100, byte-identical to
		// what was published.
		logKey := protocol.EventLogKey(protocol.TypeHealthAlert)
		logged := readEventLog(t, client, protocol.TypeHealthAlert)
		if len(logged) != protocol.EventLogMax {
			t.Fatalf("%s holds %d envelopes, want %d", logKey, len(logged), protocol.EventLogMax)
		}
		perPub := make(map[int][]int)
		for i, entry := range logged {
			if !published[string(entry)] {
				t.Fatalf("%s entry %d is not byte-identical to any published envelope: %s", logKey, i, entry)
			}
			var env struct{ Data seqData }
			if err := json.Unmarshal(entry, &env); err != nil {
				t.Fatal(err)
			}
			perPub[env.Data.Publisher] = append(perPub[env.Data.Publisher], env.Data.Seq)
		}
		// Each publisher publishes in order, so its entries must be its
		// newest ones, in order: the log dropped only older envelopes.
		for p, seqs := range perPub {
			for i, seq := range seqs {
				if want := perPublisher - len(seqs) + i; seq != want {
					t.Fatalf("publisher %d's entries in the log are %v; want its newest %d in order", p, seqs, len(seqs))
				}
			}
		}
		for _, key := range []string{logKey, eventLogListKey(protocol.TypeHealthAlert)} {
			checkTTL(t, client, key, protocol.EventLogTTL)
		}
		if n, _ := client.LLen(ctx, eventLogListKey(protocol.TypeHealthAlert)).Result(); n != protocol.EventLogMax {
			t.Errorf("companion list holds %d entries, want %d", n, protocol.EventLogMax)
		}
	})
}

// checkEnvelope checks an envelope's fields against the protocol.
func checkEnvelope(t *testing.T, raw []byte, agent, eventType string) {
	t.Helper()
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatalf("envelope is not a JSON object: %v: %s", err, raw)
	}
	var env struct {
		Timestamp, Agent, Type string
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatalf("envelope fields have wrong types: %v: %s", err, raw)
	}
	ts, err := time.Parse(protocol.TimestampFormat, env.Timestamp)
	if err != nil || ts.Format(protocol.TimestampFormat) != env.Timestamp {
		t.Errorf("timestamp %q is not of the form %s", env.Timestamp, protocol.TimestampFormat)
	}
	if d := time.Since(ts); d < 0 || d > time.Hour {
		t.Errorf("timestamp %q is not UTC now (off by %s)", env.Timestamp, d)
	}
	if env.Agent != agent || env.Type != eventType {
		t.Errorf("agent, type = %q, %q; want %q, %q", env.Agent, env.Type, agent, eventType)
	}
	if d := fields["data"]; len(d) == 0 || d[0] != '{' {
		t.Errorf("data is not an object: %s", d)
	}
}

// readEventLog GETs an event log and splits it into its raw entries.
func readEventLog(t testing.TB, client redis.UniversalClient, eventType string) []json.RawMessage {
	t.Helper()
	s, err := client.Get(context.Background(), protocol.EventLogKey(eventType)).Result()
	if err != nil {
		t.Fatalf("GET %s: %v", protocol.EventLogKey(eventType), err)
	}
	var entries []json.RawMessage
	if err := json.Unmarshal([]byte(s), &entries); err != nil {
		t.Fatalf("%s is not a JSON array: %v", protocol.EventLogKey(eventType), err)
	}
	return entries
}

// checkTTL checks that a key expires within ttl and not much sooner.
func checkTTL(t *testing.T, client redis.UniversalClient, key string, ttl time.Duration) {
	t.Helper()
	got, err := client.TTL(context.Background(), key).Result()
	if err != nil {
		t.Fatalf("TTL %s: %v", key, err)
	}
	if got > ttl || got < ttl-10*time.Second {
		t.Errorf("TTL of %s = %s, want about %s", key, got, ttl)
	}
}

func TestPublishRejects(t *testing.T) {
	b := newBus(t, testenvClient(t), Options{})
	tests := []struct {
		name             string
		agent, eventType string
		data             any
	}{
		{"empty type", protocol.AgentMonitor, "", map[string]int{}},
		{"glob in type", protocol.AgentMonitor, "health_*", map[string]int{}},
		{"space in type", protocol.AgentMonitor, "health alert", map[string]int{}},
		{"brace in type", protocol.AgentMonitor, "{x}", map[string]int{}},
		{"empty agent", "", protocol.TypeHealthAlert, map[string]int{}},
		{"data not an object", protocol.AgentMonitor, protocol.TypeHealthAlert, []int{1}},
		{"data not encodable", protocol.AgentMonitor, protocol.TypeHealthAlert, map[string]any{"f": func() {}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := b.Publish(context.Background(), tt.agent, tt.eventType, tt.data)
			if err == nil {
				t.Fatalf("Publish succeeded with %+v", env)
			}
		})
	}
}

func TestPublishAfterClose(t *testing.T) {
	b := newBus(t, testenvClient(t), Options{})
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Publish(context.Background(), protocol.AgentMonitor, protocol.TypeFalseAlarm, map[string]string{"container": "c"}); err != ErrClosed {
		t.Fatalf("Publish after Close = %v, want %v", err, ErrClosed)
	}
}

func TestEncodeEnvelopeMatchesEncodingJSON(t *testing.T) {
	tests := []struct {
		agent, eventType string
		data             any
	}{
		{protocol.AgentMonitor, protocol.TypeHealthAlert, newSeqData(1, 2)},
		{`odd "agent" <&> \ é`, "custom.type-1", map[string]any{"html": "<script>&</script>", "u": "\u2028", "n": 1.5e300}},
		{protocol.AgentAlert, protocol.TypeEscalation, struct{}{}},
	}
	for _, tt := range tests {
		env, err := protocol.NewEnvelope(tt.agent, tt.eventType, tt.data, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(env)
		if got := encodeEnvelope(env); string(got) != string(want) {
			t.Errorf("encodeEnvelope =\n%s\nwant\n%s", got, want)
		}
	}
}
