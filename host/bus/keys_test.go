package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/sdk"
)

func TestStats(t *testing.T) {
	forEachBackend(t, func(t *testing.T, client redis.UniversalClient) {
		ctx := context.Background()
		b := newBus(t, client, Options{})
		if _, ok, err := b.Stats(ctx, "api"); ok || err != nil {
			t.Fatalf("Stats of an unknown container = %v, %v; want false, nil", ok, err)
		}
		sample := sdk.Sample{Container: "api", Status: "running", Time: time.Date(2025, 11, 3, 10, 30, 45, 123, time.UTC), CPUPct: 22.14, MemoryPct: 45.16}
		if err := b.SetStats(ctx, protocol.StatsFromSample(sample)); err != nil {
			t.Fatalf("SetStats: %v", err)
		}
		const want = `{"name":"api","status":"running","memory_pct":45.2,"cpu_pct":22.1,"timestamp":"2025-11-03T10:30:45"}`
		if got := client.Get(ctx, "hemostat:stats:api").Val(); got != want {
			t.Errorf("hemostat:stats:api = %s, want %s", got, want)
		}
		checkTTL(t, client, "hemostat:stats:api", 300*time.Second)
		got, ok, err := b.Stats(ctx, "api")
		if !ok || err != nil || got != protocol.StatsFromSample(sample) {
			t.Errorf("Stats = %+v, %v, %v; want %+v", got, ok, err, protocol.StatsFromSample(sample))
		}

		client.Set(ctx, "hemostat:stats:bad", "{not json", 0)
		if _, _, err := b.Stats(ctx, "bad"); err == nil {
			t.Error("Stats of a corrupt key succeeded")
		}
		if err := b.SetStats(ctx, protocol.Stats{}); err == nil {
			t.Error("SetStats without a name succeeded")
		}
	})
}

func TestRecordRemediation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, client redis.UniversalClient) {
		ctx := context.Background()
		b := newBus(t, client, Options{})
		start := time.Date(2025, 11, 3, 10, 30, 53, 0, time.FixedZone("CET", 3600))
		var want []sdk.Remediation
		for i := 1; i <= 3; i++ {
			r := sdk.Remediation{Time: start.Add(time.Duration(i) * time.Second), Action: "restart", Status: sdk.StatusSuccess}
			rec, err := b.RecordRemediation(ctx, "api", r)
			if err != nil {
				t.Fatalf("RecordRemediation: %v", err)
			}
			wantRec := protocol.RemediationRecord{LastAction: fmt.Sprintf("2025-11-03T09:30:5%d", 3+i), Count: i}
			if rec != wantRec {
				t.Errorf("record %d = %+v, want %+v", i, rec, wantRec)
			}
			r.Time = r.Time.UTC()
			want = append(want, r)
		}
		const wantRaw = `{"last_action":"2025-11-03T09:30:56","count":3}`
		if got := client.Get(ctx, "hemostat:remediation:api").Val(); got != wantRaw {
			t.Errorf("hemostat:remediation:api = %s, want %s", got, wantRaw)
		}
		checkTTL(t, client, "hemostat:remediation:api", 3600*time.Second)
		checkTTL(t, client, protocol.DecisionsKey("api"), protocol.HistoryTTL)
		rec, ok, err := b.RemediationRecord(ctx, "api")
		if !ok || err != nil || rec.Count != 3 {
			t.Errorf("RemediationRecord = %+v, %v, %v; want count 3", rec, ok, err)
		}
		got, err := b.Remediations(ctx, "api")
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("Remediations = %v, want %v", got, want)
		}

		// A record another writer left unreadable restarts the count.
		client.Set(ctx, "hemostat:remediation:web", "garbage", 0)
		if rec, err := b.RecordRemediation(ctx, "web", sdk.Remediation{Action: "stop"}); err != nil || rec.Count != 1 {
			t.Errorf("RecordRemediation over garbage = %+v, %v; want count 1", rec, err)
		}
		// The decision history is capped, keeping the newest.
		for i := range protocol.DecisionsMax + 5 {
			if _, err := b.RecordRemediation(ctx, "db", sdk.Remediation{Action: "restart", Reason: fmt.Sprint(i)}); err != nil {
				t.Fatal(err)
			}
		}
		hist, _ := b.Remediations(ctx, "db")
		if len(hist) != protocol.DecisionsMax || hist[0].Reason != "5" || hist[len(hist)-1].Reason != fmt.Sprint(protocol.DecisionsMax+4) {
			t.Errorf("decision history holds %d, from %q to %q; want the newest %d", len(hist), hist[0].Reason, hist[len(hist)-1].Reason, protocol.DecisionsMax)
		}
		if rec, _, _ := b.RemediationRecord(ctx, "db"); rec.Count != protocol.DecisionsMax+5 {
			t.Errorf("count = %d, want %d", rec.Count, protocol.DecisionsMax+5)
		}
	})
}

func TestHistory(t *testing.T) {
	forEachBackend(t, func(t *testing.T, client redis.UniversalClient) {
		ctx := context.Background()
		b := newBus(t, client, Options{})
		base := time.Date(2025, 11, 3, 10, 0, 0, 0, time.UTC)
		const n = protocol.HistoryMax + 10
		for i := range n {
			s := sdk.Sample{Container: "api", Status: "running", Time: base.Add(time.Duration(i) * time.Second), CPUPct: float64(i)}
			if err := b.AppendSample(ctx, s); err != nil {
				t.Fatalf("AppendSample: %v", err)
			}
		}
		if got := client.LLen(ctx, protocol.HistoryKey("api")).Val(); got != protocol.HistoryMax {
			t.Errorf("history holds %d samples, want %d", got, protocol.HistoryMax)
		}
		checkTTL(t, client, protocol.HistoryKey("api"), protocol.HistoryTTL)

		tests := []struct {
			n         int
			wantLen   int
			wantFirst float64
		}{
			{5, 5, n - 5},
			{0, protocol.HistoryMax, n - protocol.HistoryMax},
			{-1, protocol.HistoryMax, n - protocol.HistoryMax},
			{1000, protocol.HistoryMax, n - protocol.HistoryMax},
		}
		for _, tt := range tests {
			got, err := b.History(ctx, "api", tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.wantLen || got[0].CPUPct != tt.wantFirst || got[len(got)-1].CPUPct != n-1 {
				t.Errorf("History(%d): %d samples from %v to %v; want %d from %v to %v",
					tt.n, len(got), got[0].CPUPct, got[len(got)-1].CPUPct, tt.wantLen, tt.wantFirst, float64(n-1))
			}
			if !got[0].Time.Equal(base.Add(time.Duration(tt.wantFirst) * time.Second)) {
				t.Errorf("History(%d) first sample time %v", tt.n, got[0].Time)
			}
		}
		if got, err := b.History(ctx, "nobody", 0); err != nil || len(got) != 0 {
			t.Errorf("History of an unknown container = %v, %v", got, err)
		}
		// An entry another writer corrupted is skipped, not fatal.
		client.RPush(ctx, protocol.HistoryKey("api"), "{oops")
		if got, err := b.History(ctx, "api", 2); err != nil || len(got) != 1 {
			t.Errorf("History over a corrupt entry = %d samples, %v; want 1, nil", len(got), err)
		}
		if err := b.AppendSample(ctx, sdk.Sample{}); err == nil {
			t.Error("AppendSample without a container succeeded")
		}
	})
}

func TestState(t *testing.T) {
	forEachBackend(t, func(t *testing.T, client redis.UniversalClient) {
		ctx := context.Background()
		b := newBus(t, client, Options{})
		if _, ok, err := b.GetState(ctx, "llm:budget"); ok || err != nil {
			t.Fatalf("GetState of an unset key = %v, %v", ok, err)
		}
		value := json.RawMessage(`{"spent": 1.5, "calls": [1, 2]}`)
		if err := b.SetState(ctx, "llm:budget", value, time.Minute); err != nil {
			t.Fatalf("SetState: %v", err)
		}
		got, ok, err := b.GetState(ctx, "llm:budget")
		if !ok || err != nil || string(got) != string(value) {
			t.Errorf("GetState = %s, %v, %v; want %s", got, ok, err, value)
		}
		checkTTL(t, client, "hemostat:state:llm:budget", time.Minute)
		if err := b.SetState(ctx, "forever", json.RawMessage(`1`), 0); err != nil {
			t.Fatal(err)
		}
		if ttl := client.TTL(ctx, "hemostat:state:forever").Val(); ttl != -1 {
			t.Errorf("TTL with ttl 0 = %v, want none", ttl)
		}

		bad := []struct {
			name  string
			key   string
			value string
			ttl   time.Duration
		}{
			{"invalid JSON", "k", "{", 0},
			{"empty value", "k", "", 0},
			{"negative TTL", "k", "1", -time.Second},
			{"empty key", "", "1", 0},
			{"glob in key", "k*", "1", 0},
		}
		for _, tt := range bad {
			if err := b.SetState(ctx, tt.key, json.RawMessage(tt.value), tt.ttl); err == nil {
				t.Errorf("SetState with %s succeeded", tt.name)
			}
		}
	})
}
