package sdk_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/hemostat/hemostat/sdk"
)

// policyAnalyzer keeps the responder allowlist Configure was given and
// answers in shadow mode, with a root cause.
type policyAnalyzer struct{ actions []string }

func (a *policyAnalyzer) Configure(ctx context.Context, _ json.RawMessage, _ sdk.Host) error {
	a.actions = sdk.ResponderActions(ctx)
	return nil
}

func (a *policyAnalyzer) Analyze(context.Context, sdk.AnalyzeRequest) (sdk.Decision, error) {
	return sdk.Decision{Verdict: sdk.VerdictAbstain, Reason: "shadow mode", Shadow: &sdk.Decision{
		Verdict: sdk.VerdictRemediate, Action: "restart", Reason: "exited 137", RootCause: "heap at the limit", Confidence: 0.8,
		Shadow: &sdk.Decision{Verdict: sdk.VerdictEscalate}, // dropped: one level only
	}}, nil
}

func TestResponderActionsAndShadowCrossTheWire(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	impl := &policyAnalyzer{}
	h := sdk.NewHarness(t, impl)

	if err := h.Configure(ctx, map[string]any{}); err != nil {
		t.Fatal(err)
	}
	if impl.actions != nil {
		t.Errorf("without an allowlist from the host, ResponderActions = %v, want nil", impl.actions)
	}
	allow := []string{"restart", "start"}
	if err := h.Client.Configure(sdk.WithResponderActions(ctx, allow), json.RawMessage(`{}`), h.Host); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(impl.actions, allow) {
		t.Errorf("ResponderActions in Configure = %v, want %v", impl.actions, allow)
	}

	d, err := h.Analyzer().Analyze(ctx, sdk.AnalyzeRequest{Alert: sdk.Alert{Container: "api", Issues: []string{"OOM killed"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := sdk.Decision{Verdict: sdk.VerdictRemediate, Action: "restart", Reason: "exited 137", RootCause: "heap at the limit", Confidence: 0.8}
	if d.Verdict != sdk.VerdictAbstain || d.Shadow == nil || *d.Shadow != want {
		t.Errorf("decision = %+v, shadow %+v; want abstain with shadow %+v", d, d.Shadow, want)
	}
}
