package dockerresponder

import (
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/hemostat/hemostat/sdk"
)

func TestRestartCrashedContainer(t *testing.T) {
	t.Parallel()
	d := newDockerTest(t)
	r := d.responder(nil)
	name := d.sickapp("app", container.Config{}, container.HostConfig{}, "--exit", "3", "--after", "3s")
	crashed := d.waitExited(name)
	if crashed.State.ExitCode != 3 {
		t.Fatalf("exit code %d, want 3", crashed.State.ExitCode)
	}

	res := d.remediate(r, sdk.RemediateRequest{Container: name, Action: sdk.ActionRestart, Reason: "Exited with code 3"})
	wantStatus(t, res, sdk.StatusSuccess, "")
	if res.StateAfter != "running" {
		t.Errorf("StateAfter %q, want running", res.StateAfter)
	}
	if res.Duration <= 0 {
		t.Errorf("Duration %v, want it measured", res.Duration)
	}
	after := d.inspect(name)
	if !startedAt(t, after).After(startedAt(t, crashed)) {
		t.Errorf("StartedAt %s not after the crashed run's %s: not restarted", after.State.StartedAt, crashed.State.StartedAt)
	}
	if res.Details["container_id"] != after.ID[:12] {
		t.Errorf("container_id %q, want %q", res.Details["container_id"], after.ID[:12])
	}
}

func TestRestartWaitsForHealthy(t *testing.T) {
	t.Parallel()
	d := newDockerTest(t)
	r := d.responder(nil)
	name := d.sickapp("app", container.Config{Healthcheck: healthcheck("/tmp/healthy", time.Second)}, container.HostConfig{},
		"--health-file", "/tmp/healthy")
	before := d.waitHealthy(name)

	res := d.remediate(r, sdk.RemediateRequest{Container: name, Action: sdk.ActionRestart, Params: map[string]string{ParamTrigger: TriggerLifecycle}})
	wantStatus(t, res, sdk.StatusSuccess, "")
	if res.StateAfter != "running (healthy)" {
		t.Errorf("StateAfter %q, want running (healthy)", res.StateAfter)
	}
	// A restarted container's health starts over at "starting"; healthy
	// now means the responder waited for the new run's first check.
	after := d.inspect(name)
	if !startedAt(t, after).After(startedAt(t, before)) || after.State.Health.Status != container.Healthy {
		t.Errorf("after restart: started %s (before %s), health %s", after.State.StartedAt, before.State.StartedAt, after.State.Health.Status)
	}
}

func TestRestartVerifyFailure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		health   *container.HealthConfig
		args     []string
		settings map[string]any
		errorHas string
		state    string
	}{
		{
			name:     "unhealthy",
			health:   healthcheck("/nonexistent", 500*time.Millisecond),
			args:     []string{"--idle"},
			errorHas: "unhealthy",
			state:    "running (unhealthy)",
		},
		{
			name:     "never healthy in time",
			health:   healthcheck("/tmp/healthy", time.Hour),
			args:     []string{"--health-file", "/tmp/healthy"},
			settings: map[string]any{"verify_timeout": "2s"},
			errorHas: "still running (starting) 2s after restart",
			state:    "running (starting)",
		},
		{
			name:     "exits after restart",
			health:   healthcheck("/tmp/healthy", time.Hour),
			args:     []string{"--exit", "1", "--after", "1s"},
			errorHas: "exited with code 1",
			state:    "exited (1)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := newDockerTest(t)
			r := d.responder(tt.settings)
			name := d.sickapp("app", container.Config{Healthcheck: tt.health}, container.HostConfig{}, tt.args...)
			res := d.remediate(r, sdk.RemediateRequest{Container: name, Action: sdk.ActionRestart, Params: map[string]string{ParamTrigger: TriggerLifecycle}})
			wantStatus(t, res, sdk.StatusFailed, tt.errorHas)
			if !strings.HasPrefix(res.StateAfter, tt.state) {
				t.Errorf("StateAfter %q, want %q", res.StateAfter, tt.state)
			}
		})
	}
}

// TestLifecycleActions walks one container through stop, start, kill,
// pause and unpause, checking each action's status and the engine's view.
func TestLifecycleActions(t *testing.T) {
	t.Parallel()
	d := newDockerTest(t)
	r := d.responder(nil)
	name := d.sickapp("app", container.Config{}, container.HostConfig{}, "--log", "ready")
	// The first step stops it: only after its SIGTERM handler is set.
	testenv.WaitLogLine(t, d.cli, name, "ready")
	pause := func() {
		if err := d.cli.ContainerPause(d.ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		before   func()
		action   string
		params   map[string]string
		status   string
		errorHas string
		state    string
	}{
		{action: sdk.ActionStop, status: sdk.StatusSuccess, state: "exited (0)"},
		{action: sdk.ActionStop, status: sdk.StatusNotApplicable, errorHas: "not running", state: "exited (0)"},
		// The engine logged our stop: a start without the monitor's word
		// is refused as undoing a stop on purpose.
		{action: sdk.ActionStart, status: sdk.StatusSkipped, errorHas: "stopped on purpose", state: "exited (0)"},
		{action: sdk.ActionStart, params: map[string]string{ParamStopRequested: "false"}, status: sdk.StatusSuccess, state: "running"},
		{action: sdk.ActionStart, status: sdk.StatusNotApplicable, errorHas: "already running", state: "running"},
		{action: sdk.ActionKill, params: map[string]string{ParamSignal: "bogus"}, status: sdk.StatusRejected, errorHas: "unknown signal", state: "running"},
		{action: sdk.ActionKill, status: sdk.StatusSuccess, state: "exited (137)"},
		{action: sdk.ActionKill, status: sdk.StatusNotApplicable, errorHas: "not running", state: "exited (137)"},
		{action: sdk.ActionStart, params: map[string]string{ParamStopRequested: "false"}, status: sdk.StatusSuccess, state: "running"},
		{action: sdk.ActionUnpause, status: sdk.StatusNotApplicable, errorHas: "not paused", state: "running"},
		{before: pause, action: sdk.ActionRestart, status: sdk.StatusSkipped, errorHas: "paused", state: "paused"},
		{action: sdk.ActionUnpause, status: sdk.StatusSuccess, state: "running"},
		{action: sdk.ActionKill, params: map[string]string{ParamSignal: "SIGTERM"}, status: sdk.StatusSuccess, state: "exited (0)"},
	}
	for i, s := range steps {
		if s.before != nil {
			s.before()
		}
		res := d.remediate(r, sdk.RemediateRequest{Container: name, Action: s.action, Params: s.params})
		if res.Status != s.status || !strings.Contains(res.Error, s.errorHas) {
			t.Fatalf("step %d %s: %s %q, want %s containing %q", i, s.action, res.Status, res.Error, s.status, s.errorHas)
		}
		if res.StateAfter != s.state {
			t.Errorf("step %d %s: StateAfter %q, want %q", i, s.action, res.StateAfter, s.state)
		}
		if got := describeState(d.inspect(name)); got != s.state {
			t.Errorf("step %d %s: engine says %q, want %q", i, s.action, got, s.state)
		}
	}
}
