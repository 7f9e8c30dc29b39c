package dockerresponder

import (
	"errors"
	"slices"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/hemostat/hemostat/sdk"
)

// TestThroughHarness drives the responder over the same gRPC path hemostatd
// uses.
func TestThroughHarness(t *testing.T) {
	t.Parallel()
	d := newDockerTest(t)
	h := sdk.NewHarness(t, New())

	err := h.Configure(d.ctx, map[string]any{"verify_timeout": "soon", "max_replicas": 0})
	var cfgErrs sdk.ConfigErrors
	if !errors.As(err, &cfgErrs) || len(cfgErrs) != 1 || cfgErrs[0].Key != "verify_timeout" {
		t.Fatalf("bad config: %v, want one error on verify_timeout", err)
	}
	if err := h.Configure(d.ctx, map[string]any{"verify_timeout": "30s"}); err != nil {
		t.Fatal(err)
	}

	caps, err := h.Responder().Capabilities(d.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{sdk.ActionRestart, sdk.ActionStop, sdk.ActionStart, sdk.ActionKill, sdk.ActionUnpause,
		sdk.ActionUpdateResources, sdk.ActionExec, sdk.ActionCleanup, sdk.ActionScale} {
		if !slices.Contains(caps, a) {
			t.Errorf("capabilities %q lack %q", caps, a)
		}
	}

	name := d.sickapp("app", container.Config{}, container.HostConfig{}, "--exit", "2", "--after", "2s")
	d.waitExited(name)
	res, err := h.Responder().Remediate(d.ctx, sdk.RemediateRequest{
		Container: name, Action: sdk.ActionRestart, Reason: "Exited with code 2", Confidence: 0.9,
		Params: map[string]string{ParamTrigger: TriggerLifecycle},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, res, sdk.StatusSuccess, "")
	if res.StateAfter != "running" || res.Duration <= 0 {
		t.Errorf("result %+v, want running after and a duration", res)
	}
	if err := h.Client.Shutdown(d.ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}
