package dockerresponder

import (
	"context"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/hemostat/hemostat/sdk"
)

// TestPolicyOnResolvedContainer sends requests that name protected,
// opted-out and own containers by ID and ID prefix, as a forged
// remediation_needed or a host without the gate would: every one is
// refused on what the reference resolves to, and the container is left
// as it was.
func TestPolicyOnResolvedContainer(t *testing.T) {
	t.Parallel()
	d := newDockerTest(t)
	host := sdk.WithSafetyPolicy(sdk.NewMemoryHost(), sdk.SafetyPolicy{
		Protected: []string{"*-cache-*"}, Actions: []string{sdk.ActionRestart, sdk.ActionStart},
	})
	r := New()
	if err := r.Configure(d.ctx, []byte(`{}`), host); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Shutdown(context.Background()) })

	protected := d.inspect(d.sickapp("cache-db", container.Config{}, container.HostConfig{}, "--idle"))
	optedOut := d.inspect(d.sickapp("optout", container.Config{Labels: map[string]string{LabelEnable: "false"}}, container.HostConfig{}, "--idle"))
	unclear := d.inspect(d.sickapp("unclear", container.Config{Labels: map[string]string{LabelEnable: "maybe"}}, container.HostConfig{}, "--idle"))
	own := d.inspect(d.sickapp("own", container.Config{}, container.HostConfig{}, "--idle"))
	plain := d.inspect(d.sickapp("plain", container.Config{}, container.HostConfig{}, "--idle"))
	r.self = selfIdentity{cgroupID: own.ID}

	tests := []struct {
		name   string
		target container.InspectResponse
		ref    string
		action string
		reason string
	}{
		{"protected by full ID", protected, protected.ID, sdk.ActionRestart, "is protected"},
		{"protected by ID prefix", protected, protected.ID[:12], sdk.ActionRestart, "is protected"},
		{"protected by name", protected, containerName(protected), sdk.ActionRestart, "is protected"},
		{"opted out by ID", optedOut, optedOut.ID, sdk.ActionRestart, "opted out"},
		{"opted out by ID prefix", optedOut, optedOut.ID[:13], sdk.ActionRestart, "opted out"},
		{"unclear label", unclear, unclear.ID, sdk.ActionRestart, "neither true nor false"},
		{"own container by ID", own, own.ID, sdk.ActionRestart, "hemostatd"},
		{"own container by name", own, containerName(own), sdk.ActionRestart, "hemostatd"},
		{"action off the allowlist", plain, plain.ID, sdk.ActionKill, "not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := d.remediate(r, sdk.RemediateRequest{Container: tt.ref, Action: tt.action})
			wantStatus(t, res, sdk.StatusRejected, tt.reason)
			after := d.inspect(tt.target.ID)
			if !after.State.Running || after.State.StartedAt != tt.target.State.StartedAt {
				t.Fatalf("%s was touched: running=%v StartedAt %s, was %s", tt.ref, after.State.Running, after.State.StartedAt, tt.target.State.StartedAt)
			}
		})
	}

	// The same responder acts on a container the rules allow: the
	// refusals above are the rules', not a broken responder.
	res := d.remediate(r, sdk.RemediateRequest{Container: plain.ID[:12], Action: sdk.ActionRestart, Params: map[string]string{ParamTrigger: TriggerLifecycle}})
	wantStatus(t, res, sdk.StatusSuccess, "")
}

// TestPolicyCrossesTheWire checks that the host's policy reaches the
// plugin's Configure over gRPC, as hemostatd sends it.
func TestPolicyCrossesTheWire(t *testing.T) {
	t.Parallel()
	d := newDockerTest(t)
	r := New()
	h := sdk.NewHarness(t, r)
	want := sdk.SafetyPolicy{Protected: []string{"db-*"}, Actions: []string{sdk.ActionStart}, RequireOptIn: true}
	if err := h.Client.Configure(d.ctx, []byte(`{}`), sdk.WithSafetyPolicy(h.Host, want)); err != nil {
		t.Fatal(err)
	}
	r.mu.RLock()
	got := r.policy
	r.mu.RUnlock()
	if !got.fromHost || got.RequireOptIn != want.RequireOptIn || len(got.Protected) != 1 || got.Protected[0] != "db-*" ||
		len(got.Actions) != 1 || got.Actions[0] != sdk.ActionStart {
		t.Fatalf("plugin's policy = %+v, want %+v from the host", got, want)
	}
}
