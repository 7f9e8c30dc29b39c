package dockerresponder

import (
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/hemostat/hemostat/sdk"
)

func TestDependentsRestarted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		settings  map[string]any
		restarted bool
	}{
		{name: "by default", restarted: true},
		{name: "turned off", settings: map[string]any{"restart_dependents": false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := newDockerTest(t)
			r := d.responder(tt.settings)
			target := d.sickapp("target", container.Config{}, container.HostConfig{})
			id := d.inspect(target).ID
			byName := d.sharing("byname", target)
			byID := d.sharing("byid", id[:12])
			bystander := d.sickapp("bystander", container.Config{}, container.HostConfig{})
			before := map[string]container.InspectResponse{}
			for _, n := range []string{byName, byID, bystander} {
				before[n] = d.inspect(n)
			}

			res := d.remediate(r, sdk.RemediateRequest{Container: target, Action: sdk.ActionRestart, Params: map[string]string{ParamTrigger: TriggerLifecycle}})
			wantStatus(t, res, sdk.StatusSuccess, "")

			var want []string
			if tt.restarted {
				want = []string{byName, byID}
			}
			got := strings.Split(res.Details["dependents_restarted"], ",")
			if res.Details["dependents_restarted"] == "" {
				got = nil
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("dependents_restarted %q, want %q", got, want)
			}
			for n, was := range before {
				now := d.inspect(n)
				restarted := startedAt(t, now).After(startedAt(t, was))
				if wantRestarted := slices.Contains(want, n); restarted != wantRestarted {
					t.Errorf("%s restarted=%v, want %v", n, restarted, wantRestarted)
				}
				if !now.State.Running {
					t.Errorf("%s is %s, want running", n, describeState(now))
				}
			}
		})
	}
}
