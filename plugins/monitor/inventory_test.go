package monitor

import (
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/hemostat/hemostat/sdk"
)

func TestWillRestart(t *testing.T) {
	policy := func(name container.RestartPolicyMode, max int) container.RestartPolicy {
		return container.RestartPolicy{Name: name, MaximumRetryCount: max}
	}
	tests := []struct {
		name      string
		policy    container.RestartPolicy
		restarts  int
		exit      int
		cancelled bool // the engine cancelled the policy (applyKill)
		manual    bool // any kill came (applyKill)
		want      bool
	}{
		{"no policy", policy("no", 0), 0, 1, false, false, false},
		{"empty policy", policy("", 0), 0, 1, false, false, false},
		{"always, clean exit", policy("always", 0), 0, 0, false, false, true},
		{"always, cancelled", policy("always", 0), 0, 0, true, true, false},
		{"always, killed without cancelling", policy("always", 0), 0, 1, false, true, true},
		{"unless-stopped", policy("unless-stopped", 0), 5, 2, false, false, true},
		{"unless-stopped, killed without cancelling", policy("unless-stopped", 0), 0, 1, false, true, false},
		{"on-failure, failure", policy("on-failure", 0), 9, 1, false, false, true},
		{"on-failure, success", policy("on-failure", 0), 0, 0, false, false, false},
		{"on-failure, retries left", policy("on-failure", 3), 2, 1, false, false, true},
		{"on-failure, retries used", policy("on-failure", 3), 3, 1, false, false, false},
		{"on-failure, cancelled", policy("on-failure", 0), 0, 137, true, true, false},
		{"on-failure, killed without cancelling", policy("on-failure", 0), 0, 1, false, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := containerInfo{RestartPolicy: tt.policy, RestartCount: tt.restarts, PolicyCancelled: tt.cancelled, ManuallyStopped: tt.manual}
			if got := c.willRestart(tt.exit); got != tt.want {
				t.Fatalf("willRestart = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMissedChanges(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	running := containerInfo{ID: "a", Name: "a", Status: "running", StartedAt: t0, Health: "healthy"}
	died := running
	died.Status, died.FinishedAt, died.ExitCode = "exited", t0.Add(time.Minute), 3
	restarted := running
	restarted.StartedAt, restarted.FinishedAt, restarted.RestartCount = t0.Add(2*time.Minute), t0.Add(time.Minute), 1
	paused := running
	paused.Status = "paused"
	unhealthy := running
	unhealthy.Health = "unhealthy"
	terminated := died
	terminated.ExitCode = 143
	interrupted := died
	interrupted.ExitCode = 130
	stoppedByEngine := running
	stoppedByEngine.Health = "starting"
	engineStopped := stoppedByEngine
	engineStopped.Status, engineStopped.FinishedAt, engineStopped.Health = "exited", t0.Add(time.Minute), "unhealthy"
	oomKilled := died
	oomKilled.ExitCode, oomKilled.OOMKilled = 137, true

	tests := []struct {
		name           string
		old            containerInfo
		known          bool
		cur            containerInfo
		want           []string
		wantRestarting bool
		wantStop       bool
	}{
		{"unchanged", running, true, running, nil, false, false},
		{"died", running, true, died, []string{sdk.EventDie}, false, false},
		{"died and restarted", running, true, restarted, []string{sdk.EventDie, sdk.EventStart}, true, false},
		{"paused", running, true, paused, []string{sdk.EventPause}, false, false},
		{"unpaused", paused, true, running, []string{sdk.EventUnpause}, false, false},
		{"became unhealthy", running, true, unhealthy, []string{sdk.EventHealthStatus}, false, false},
		{"new and running", containerInfo{}, false, running, []string{sdk.EventStart}, false, false},
		{"new and already exited", containerInfo{}, false, died, []string{sdk.EventDie}, false, false},
		{"stopped by SIGTERM", running, true, terminated, []string{sdk.EventDie}, false, true},
		{"stopped by SIGINT", running, true, interrupted, []string{sdk.EventDie}, false, true},
		{"OOM killed", running, true, oomKilled, []string{sdk.EventDie}, false, false},
		{"stopped by the engine's restart, restored unhealthy", stoppedByEngine, true, engineStopped, []string{sdk.EventDie}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := missedChanges(tt.old, tt.known, tt.cur)
			var events []string
			for _, c := range got {
				events = append(events, c.event)
			}
			if len(events) != len(tt.want) {
				t.Fatalf("events = %v, want %v", events, tt.want)
			}
			for i := range events {
				if events[i] != tt.want[i] {
					t.Fatalf("events = %v, want %v", events, tt.want)
				}
			}
			if len(got) > 0 && got[0].event == sdk.EventDie {
				s := got[0].info.sample(t0)
				got[0].mutate(&s)
				if s.RestartingByDocker != tt.wantRestarting || s.ExitCode != tt.cur.ExitCode || s.StopRequested != tt.wantStop {
					t.Fatalf("die sample = %+v, want RestartingByDocker %v, exit %d, StopRequested %v", s, tt.wantRestarting, tt.cur.ExitCode, tt.wantStop)
				}
			}
		})
	}
}

func TestParseEngineTime(t *testing.T) {
	if got := parseEngineTime("0001-01-01T00:00:00Z"); !got.IsZero() {
		t.Errorf("engine zero time = %v, want zero", got)
	}
	if got := parseEngineTime("garbage"); !got.IsZero() {
		t.Errorf("garbage = %v, want zero", got)
	}
	want := time.Date(2026, 11, 23, 15, 0, 1, 123456789, time.UTC)
	if got := parseEngineTime("2026-11-23T15:00:01.123456789Z"); !got.Equal(want) {
		t.Errorf("parseEngineTime = %v, want %v", got, want)
	}
}

// TestStateSampleStopRequested: the first sync's sample of a stopped
// container says whether its exit code is a stop's, so that the host can
// tell a crash it missed from a stop.
func TestStateSampleStopRequested(t *testing.T) {
	for _, tc := range []struct {
		name string
		info containerInfo
		want bool
	}{
		{"crash", containerInfo{Status: "exited", ExitCode: 1}, false},
		{"SIGTERM", containerInfo{Status: "exited", ExitCode: 143}, true},
		{"SIGINT", containerInfo{Status: "exited", ExitCode: 130}, true},
		{"SIGKILL", containerInfo{Status: "exited", ExitCode: 137}, false},
		{"its own stop signal", containerInfo{Status: "exited", ExitCode: 137, StopSignal: syscall.SIGKILL}, true},
		{"OOM kill", containerInfo{Status: "exited", ExitCode: 137, StopSignal: syscall.SIGKILL, OOMKilled: true}, false},
		{"dead", containerInfo{Status: "dead", ExitCode: 143}, true},
		{"running", containerInfo{Status: "running", ExitCode: 143}, false},
	} {
		if got := tc.info.stateSample(time.Now()).StopRequested; got != tc.want {
			t.Errorf("%s: StopRequested = %v, want %v", tc.name, got, tc.want)
		}
	}
}
