package dockerresponder

import (
	"reflect"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/hemostat/hemostat/sdk"
)

// engineView is what a dry run must leave as it was.
type engineView struct {
	State     container.State
	Resources container.Resources
	ExecIDs   []string
	Restarts  int
}

func viewOf(c container.InspectResponse) engineView {
	return engineView{State: *c.State, Resources: c.HostConfig.Resources, ExecIDs: c.ExecIDs, Restarts: c.RestartCount}
}

func TestDryRunChangesNothing(t *testing.T) {
	t.Parallel()
	d := newDockerTest(t)
	r := d.responder(map[string]any{"exec_allowlist": [][]string{{"/sickapp", "--exit", "0"}}})
	name := d.sickapp("app", container.Config{}, container.HostConfig{Resources: container.Resources{Memory: 64 << 20, NanoCPUs: 5e8}})
	dep := d.sharing("dep", name)

	tests := []struct {
		action string
		params map[string]string
		would  string
	}{
		{sdk.ActionRestart, map[string]string{ParamTrigger: TriggerLifecycle}, "restart " + name + " (stop timeout 10s), then wait up to 1m0s for it to run; then restart " + dep + ", which shares its network namespace"},
		{sdk.ActionStop, nil, "stop " + name + " (stop timeout 10s)"},
		{sdk.ActionKill, map[string]string{ParamSignal: "TERM"}, "send SIGTERM to " + name},
		{sdk.ActionUpdateResources, nil, "raise memory limit 64MiB → 96MiB and CPU limit 0.5 → 0.75 on " + name},
		{sdk.ActionExec, map[string]string{ParamCommand: "0"}, `run "/sickapp --exit 0" in ` + name},
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			d := *d
			d.t = t
			before := viewOf(d.inspect(name))
			res := d.remediate(r, sdk.RemediateRequest{Container: name, Action: tt.action, Params: tt.params, DryRun: true})
			wantStatus(t, res, sdk.StatusDryRun, "")
			if res.Details["would"] != tt.would || res.Details["dry_run"] != "true" {
				t.Errorf("would %q, want %q (details %v)", res.Details["would"], tt.would, res.Details)
			}
			if after := viewOf(d.inspect(name)); !reflect.DeepEqual(before, after) {
				t.Errorf("dry run changed the container:\nbefore %+v\nafter  %+v", before, after)
			}
		})
	}

	// A dry run that would be refused says so rather than "dry_run".
	res := d.remediate(r, sdk.RemediateRequest{Container: name, Action: sdk.ActionExec, Params: map[string]string{ParamCommand: "/bin/sh"}, DryRun: true})
	wantStatus(t, res, sdk.StatusRejected, "not in exec_allowlist")
	if !strings.Contains(res.Details["dry_run"], "true") {
		t.Errorf("refused dry run details %v, want dry_run=true", res.Details)
	}
}
