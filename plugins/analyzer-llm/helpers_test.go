package llm

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/sdk"
)

// newTestAnalyzer configures an analyzer against a fake model; extra
// settings override the defaults.
func newTestAnalyzer(t testing.TB, f *fakeModel, extra map[string]any) *Analyzer {
	t.Helper()
	a := New()
	a.log = hclog.NewNullLogger()
	cfg := map[string]any{"provider": f.provider, "model": "test-model", "base_url": f.baseURL(), "api_key": "sk-test-key"}
	for k, v := range extra {
		cfg[k] = v
	}
	configure(t, a, cfg)
	return a
}

func configure(t testing.TB, a *Analyzer, cfg map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(cfg)
	if err := a.Configure(context.Background(), raw, nil); err != nil {
		t.Fatalf("Configure: %v", err)
	}
}

// crashAlert is a container that exited with code 137, its log tail
// holding whatever the test puts there.
func crashAlert(container string, logTail ...string) sdk.AnalyzeRequest {
	now := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
	s := sdk.Sample{
		Container: container, Image: "shop/api:1.4", Status: "exited", Time: now,
		Event: sdk.EventDie, ExitCode: 137, RestartCount: 2, MemoryLimit: 512 << 20,
		MemoryPct: 99.1, LogTail: logTail,
	}
	hist := []sdk.Sample{
		{Container: container, Status: "running", Time: now.Add(-20 * time.Second), CPUPct: 12, MemoryPct: 81.4},
		{Container: container, Status: "running", Time: now.Add(-10 * time.Second), CPUPct: 14, MemoryPct: 93.0},
	}
	return sdk.AnalyzeRequest{
		Alert:        sdk.Alert{Container: container, Issues: []string{"Exited with code 137"}, Sample: &s, Time: now},
		History:      hist,
		Remediations: []sdk.Remediation{{Time: now.Add(-30 * time.Minute), Action: "restart", Status: "success"}},
	}
}

func analyze(t testing.TB, a *Analyzer, req sdk.AnalyzeRequest, timeout time.Duration) sdk.Decision {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	d, err := a.Analyze(ctx, req)
	if err != nil {
		t.Fatalf("Analyze returned an error; it must abstain instead: %v", err)
	}
	return d
}

const goodReply = `{"verdict":"remediate","action":"restart","reason":"exited 137 after the heap grew to the 512 MiB limit; restart and raise the limit","confidence":0.85,"root_cause":"heap growth to the memory limit"}`

// setClock makes the analyzer and its provider read the time from now, so
// that a Retry-After given as an HTTP date is read against the same clock.
func setClock(a *Analyzer, now func() time.Time) {
	a.now = now
	switch p := a.cur.Load().provider.(type) {
	case *openaiProvider:
		p.now = now
	case *anthropicProvider:
		p.now = now
	}
}
