package monitor

import (
	"context"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/hemostat/hemostat/sdk"
)

// TestKillSignals sends containers signals that do not ask them to stop
// and checks the die that follows: a crash (StopRequested false) whose
// RestartingByDocker agrees with what the engine then does.
func TestKillSignals(t *testing.T) {
	cli := testenv.Docker(t)
	rec := startMonitor(t, map[string]any{"log_tail_lines": 5})
	onFailure := &container.HostConfig{RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyOnFailure, MaximumRetryCount: 1}}
	tests := []struct {
		name           string
		stopSignal     string
		host           *container.HostConfig
		args           []string
		signal         string
		wantExit       int
		wantRestarting bool
	}{
		// The test app dies of SIGHUP (exit 2): a reload gone wrong is a
		// crash.
		{"HUP kills", "", nil, []string{"--log", "reloading", "--idle"}, "HUP", 2, false},
		// It survives SIGUSR1 and crashes later.
		{"USR1 then crash", "", nil, []string{"--log", "crashing", "--exit", "1", "--after", "3s"}, "USR1", 1, false},
		// Without a stop signal of its own, any kill cancels the policy.
		{"USR1 cancels the policy", "", onFailure, []string{"--log", "crashing", "--exit", "1", "--after", "3s"}, "USR1", 1, false},
		// With one, only that signal (or SIGKILL) does.
		{"USR1 leaves the policy", "SIGINT", onFailure, []string{"--log", "crashing", "--exit", "1", "--after", "3s"}, "USR1", 1, true},
	}
	names := make([]string, len(tests))
	ids := make([]string, len(tests))
	for i, tt := range tests {
		names[i], ids[i] = runSickapp(t, cli, container.Config{StopSignal: tt.stopSignal}, tt.host, tt.args...)
	}
	ctx := context.Background()
	for i, tt := range tests {
		rec.waitFor(t, names[i], eventTimeout, "start", event(sdk.EventStart))
		if err := cli.ContainerKill(ctx, ids[i], tt.signal); err != nil {
			t.Fatalf("%s: docker kill -s %s: %v", tt.name, tt.signal, err)
		}
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			die := rec.waitFor(t, names[i], eventTimeout, "die", event(sdk.EventDie))
			if die.ExitCode != tt.wantExit || die.StopRequested || len(die.LogTail) == 0 {
				t.Errorf("die after kill -s %s = %+v, want exit %d, not a requested stop, with a log tail", tt.signal, die, tt.wantExit)
			}
			if die.RestartingByDocker != tt.wantRestarting {
				t.Errorf("die RestartingByDocker = %v, want %v", die.RestartingByDocker, tt.wantRestarting)
			}
			inspect, err := cli.ContainerInspect(ctx, ids[i])
			if err != nil {
				t.Fatal(err)
			}
			engineRestarts := inspect.State.Restarting || inspect.RestartCount > 0
			if engineRestarts != die.RestartingByDocker {
				t.Errorf("die RestartingByDocker = %v, but the engine restarts: %v (status %s, restarts %d)",
					die.RestartingByDocker, engineRestarts, inspect.State.Status, inspect.RestartCount)
			}
		})
	}
}
