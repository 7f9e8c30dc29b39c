package sdk_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/hemostat/hemostat/sdk"
)

// echoAnalyzer calls back into the host on every Analyze, so that the test
// covers the broker path as well as the role call.
type echoAnalyzer struct {
	host   sdk.Host
	Action string `json:"action"`
}

func (a *echoAnalyzer) Configure(_ context.Context, cfg json.RawMessage, host sdk.Host) error {
	a.host = host
	if err := sdk.DecodeConfig(cfg, a); err != nil {
		return err
	}
	if a.Action == "" {
		return sdk.ConfigError{Key: "action", Message: "is required"}
	}
	return nil
}

func (a *echoAnalyzer) Analyze(ctx context.Context, req sdk.AnalyzeRequest) (sdk.Decision, error) {
	if err := a.host.SetSharedState(ctx, "seen", req.Alert.Container); err != nil {
		return sdk.Decision{}, err
	}
	if req.Alert.Container == "boom" {
		return sdk.Decision{}, errors.New("cannot judge boom")
	}
	return sdk.Decision{
		Verdict: sdk.VerdictRemediate, Action: a.Action,
		Reason: req.Alert.Issues[0], Confidence: float64(len(req.History)) / 10,
	}, nil
}

func TestHarnessAnalyzerRoundTrip(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h := sdk.NewHarness(t, &echoAnalyzer{})

	err := h.Configure(ctx, map[string]any{"action": ""})
	var cerrs sdk.ConfigErrors
	if !errors.As(err, &cerrs) || len(cerrs) != 1 || cerrs[0].Key != "action" {
		t.Fatalf("Configure with empty action: got %v, want one ConfigError on key action", err)
	}
	err = h.Configure(ctx, map[string]any{"action": "restart", "bogus": 1})
	if !errors.As(err, &cerrs) || cerrs[0].Key != "bogus" || cerrs[0].Message != "unknown setting" {
		t.Fatalf("Configure with unknown key: got %v", err)
	}
	if err := h.Configure(ctx, map[string]any{"action": "restart"}); err != nil {
		t.Fatalf("Configure: %v", err)
	}

	now := time.Now().UTC().Truncate(time.Microsecond)
	sample := sdk.Sample{Container: "api", Status: "running", CPUPct: 92.5, Time: now, Labels: map[string]string{"a": "b"}}
	d, err := h.Analyzer().Analyze(ctx, sdk.AnalyzeRequest{
		Alert:        sdk.Alert{Container: "api", Issues: []string{"High CPU: 92.5%"}, Metrics: map[string]any{"cpu_pct": 92.5}, Sample: &sample, Time: now},
		History:      []sdk.Sample{sample, sample, sample},
		Remediations: []sdk.Remediation{{Time: now, Action: "restart", Status: "success"}},
	})
	if err != nil {
		t.Fatalf("Analyze: %v", err)
	}
	want := sdk.Decision{Verdict: sdk.VerdictRemediate, Action: "restart", Reason: "High CPU: 92.5%", Confidence: 0.3}
	if d != want {
		t.Fatalf("decision = %+v, want %+v", d, want)
	}
	var seen string
	if ok, err := h.Host.GetSharedState(ctx, "seen", &seen); !ok || err != nil || seen != "api" {
		t.Fatalf("shared state through the broker: found=%v err=%v value=%q", ok, err, seen)
	}

	_, err = h.Analyzer().Analyze(ctx, sdk.AnalyzeRequest{Alert: sdk.Alert{Container: "boom", Issues: []string{"x"}}})
	var rpcErr *sdk.RPCError
	if !errors.As(err, &rpcErr) || rpcErr.Message != "cannot judge boom" {
		t.Fatalf("plugin error: got %v", err)
	}
}

type scriptedMonitor struct{ samples []sdk.Sample }

func (m *scriptedMonitor) Configure(context.Context, json.RawMessage, sdk.Host) error { return nil }

func (m *scriptedMonitor) Watch(ctx context.Context, emit func(sdk.Sample) error) error {
	for _, s := range m.samples {
		if err := emit(s); err != nil {
			return err
		}
	}
	<-ctx.Done()
	return ctx.Err()
}

func TestHarnessMonitorStreamsSamples(t *testing.T) {
	started := time.Date(2025, 11, 3, 10, 30, 45, 123456000, time.UTC)
	want := []sdk.Sample{
		{Container: "a", Status: "running", CPUPct: 12.5, MemoryPct: 40, MemoryLimitIsHost: true, Time: started},
		{Container: "a", Status: "exited", Event: sdk.EventDie, ExitCode: 137, OOMKilled: true, StartedAt: started, FinishedAt: started.Add(time.Second), LogTail: []string{"out of memory"}, Time: started},
	}
	h := sdk.NewHarness(t, &scriptedMonitor{samples: want})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got []sdk.Sample
	err := h.Monitor().Watch(ctx, func(s sdk.Sample) error {
		got = append(got, s)
		if len(got) == len(want) {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Watch returned %v, want context.Canceled", err)
	}
	for i := range want {
		g, _ := json.Marshal(got[i])
		w, _ := json.Marshal(want[i])
		if string(g) != string(w) {
			t.Errorf("sample %d:\n got %s\nwant %s", i, g, w)
		}
	}
}
