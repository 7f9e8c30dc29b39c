package bus

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/sdk"
)

// TestPublishStampsHost: every envelope published carries data.host, in
// what subscribers get and in the event log alike, and data that names a
// host at its top level keeps its own.
func TestPublishStampsHost(t *testing.T) {
	forEachBackend(t, func(t *testing.T, client redis.UniversalClient) {
		b := newBus(t, client, Options{Host: "rack-1"})
		tests := []struct {
			name string
			data any
			want string
		}{
			{"empty object", struct{}{}, "rack-1"},
			{"fields", map[string]any{"container": "rack-1/web-1"}, "rack-1"},
			{"nested host is not the envelope's", map[string]any{"container": "c", "sample": map[string]string{"host": "elsewhere"}}, "rack-1"},
			{"own host kept", map[string]any{"container": "c", "host": "rack-2"}, "rack-2"},
		}
		for _, tt := range tests {
			env, err := b.Publish(context.Background(), protocol.AgentAlert, protocol.TypeEscalation, tt.data)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]json.RawMessage
			if err := json.Unmarshal(env.Data, &got); err != nil {
				t.Fatalf("%s: data %s is not an object: %v", tt.name, env.Data, err)
			}
			var host string
			json.Unmarshal(got["host"], &host)
			if host != tt.want {
				t.Errorf("%s: data.host = %q in %s, want %q", tt.name, host, env.Data, tt.want)
			}
			if in, _ := json.Marshal(tt.data); len(got) != countKeys(t, in)+boolInt(tt.want == "rack-1") {
				t.Errorf("%s: data %s lost or doubled a field of %s", tt.name, env.Data, in)
			}
		}
		if err := b.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		logged := readEventLog(t, client, protocol.TypeEscalation)
		if len(logged) != len(tests) {
			t.Fatalf("event log holds %d envelopes, want %d", len(logged), len(tests))
		}
		var first protocol.Envelope
		if err := json.Unmarshal(logged[0], &first); err != nil || string(first.Data) != `{"host":"rack-1"}` {
			t.Errorf("logged data = %s (%v), want {\"host\":\"rack-1\"}", first.Data, err)
		}
	})
}

func countKeys(t *testing.T, obj []byte) int {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(obj, &m); err != nil {
		t.Fatal(err)
	}
	return len(m)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestPublishWithoutHost: a bus without a host leaves data as it is.
func TestPublishWithoutHost(t *testing.T) {
	b := newBus(t, testenvClient(t), Options{})
	env, err := b.Publish(context.Background(), protocol.AgentAlert, protocol.TypeEscalation, map[string]string{"container": "c"})
	if err != nil {
		t.Fatal(err)
	}
	if string(env.Data) != `{"container":"c"}` {
		t.Errorf("data = %s, want it untouched", env.Data)
	}
}

// TestClaimOnce: of several buses claiming one envelope for one role,
// exactly one gets it; another role claims it afresh.
func TestClaimOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, client redis.UniversalClient) {
		ctx := context.Background()
		won := 0
		for i := range 3 {
			b := newBus(t, client, Options{Consumer: "d" + string(rune('0'+i))})
			ok, err := b.Claim(ctx, "analyzer", "abc123")
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				won++
			}
		}
		if won != 1 {
			t.Fatalf("%d buses took the claim, want 1", won)
		}
		ok, err := newBus(t, client, Options{}).Claim(ctx, "alert", "abc123")
		if err != nil || !ok {
			t.Fatalf("claim for another role = %v, %v; want taken", ok, err)
		}
		ttl, err := client.PTTL(ctx, protocol.ClaimKey("analyzer", "abc123")).Result()
		if err != nil || ttl <= 0 || ttl > ClaimTTL {
			t.Fatalf("claim TTL = %v (%v), want within (0, %v]", ttl, err, ClaimTTL)
		}
	})
}

// TestRecordSampleAndPublishStampsHost: the alert a sample raises, stored
// and published in one round trip, carries data.host like any other
// envelope, on every topology.
func TestRecordSampleAndPublishStampsHost(t *testing.T) {
	forEachBackend(t, func(t *testing.T, client redis.UniversalClient) {
		b := newBus(t, client, Options{Host: "rack-1"})
		ctx := context.Background()
		sub := client.Subscribe(ctx, protocol.Channel(protocol.TypeHealthAlert))
		defer sub.Close()
		if _, err := sub.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		s := sdk.Sample{Container: "rack-1/web-1", Status: "exited", Time: time.Now().UTC()}
		stats := protocol.StatsFromSample(s)
		alert := protocol.HealthAlert{Container: s.Container, Issues: []string{"Exited with code 1"}}
		if werr, perr := b.RecordSampleAndPublish(ctx, &stats, s, protocol.AgentMonitor, protocol.TypeHealthAlert, alert); werr != nil || perr != nil {
			t.Fatalf("RecordSampleAndPublish: %v, %v", werr, perr)
		}
		select {
		case msg := <-sub.Channel():
			var env struct {
				Data struct {
					Host string `json:"host"`
				} `json:"data"`
			}
			if json.Unmarshal([]byte(msg.Payload), &env) != nil || env.Data.Host != "rack-1" {
				t.Errorf("published %s, want data.host rack-1", msg.Payload)
			}
		case <-time.After(waitTimeout):
			t.Fatal("the alert never arrived")
		}
	})
}
