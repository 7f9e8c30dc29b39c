package monitor

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/hemostat/hemostat/sdk"
)

const eventTimeout = 20 * time.Second

func TestDieWithExitCodeAndRedactedLogTail(t *testing.T) {
	cli := testenv.Docker(t)
	rec := startMonitor(t, map[string]any{"log_tail_lines": 10, "redact_patterns": []string{`acme-\d+`}})
	ghp := "ghp_" + strings.Repeat("aB3", 12)
	name, id := runSickapp(t, cli, container.Config{}, nil,
		"--log", "booting", "--log", "password=hunter2", "--log", "Authorization: Bearer abc.def",
		"--log", "exec app --password hunter2 -v", "--log", "pass=hunter2", "--log", "API_KEY hunter2",
		"--log", "clone with "+ghp, "--log", "ticket acme-42",
		// Written right before the exit, as a panic is: the die's tail,
		// which does not wait for the engine to end the followed stream,
		// must hold it.
		"--last-words", "panic: acme-7 is gone",
		"--exit", "3", "--after", "500ms")

	start := rec.waitFor(t, name, eventTimeout, "start", event(sdk.EventStart))
	if start.Status != "running" || start.ID != id || start.StartedAt.IsZero() || start.Labels[testenv.TestLabel] != "1" {
		t.Errorf("start sample = %+v, want running with ID, StartedAt and labels", start)
	}
	die := rec.waitFor(t, name, eventTimeout, "die", event(sdk.EventDie))
	if die.ExitCode != 3 || die.Status != "exited" || die.StopRequested || die.RestartingByDocker || die.OOMKilled {
		t.Errorf("die sample = %+v, want exit 3, exited, not stopped, not restarting, not OOM", die)
	}
	want := []string{"booting", "password=[REDACTED]", "Authorization: Bearer [REDACTED]",
		"exec app --password [REDACTED] -v", "pass=[REDACTED]", "API_KEY [REDACTED]",
		"clone with [REDACTED]", "ticket [REDACTED]", "panic: [REDACTED] is gone"}
	if !slices.Equal(die.LogTail, want) {
		t.Errorf("log tail = %q, want %q", die.LogTail, want)
	}
	if die.Time.Location() != time.UTC || time.Since(die.Time) > time.Minute {
		t.Errorf("sample time %v is not a recent UTC time", die.Time)
	}
	if die.Image != testenv.TestImage(t) {
		t.Errorf("image = %q, want %q", die.Image, testenv.TestImage(t))
	}
}

func TestOOMKill(t *testing.T) {
	cli := testenv.Docker(t)
	rec := startMonitor(t, map[string]any{})
	const limit = 32 << 20
	name, _ := runSickapp(t, cli, container.Config{},
		&container.HostConfig{Resources: container.Resources{Memory: limit, MemorySwap: limit}},
		// Growing for a moment rather than all at once leaves the runtime
		// time to watch the cgroup: an OOM in a container's first
		// milliseconds has no oom event (the die still says OOMKilled).
		"--log", "allocating", "--mem-mb-per-sec", "256")

	oom := rec.waitFor(t, name, eventTimeout, "oom", event(sdk.EventOOM))
	if !oom.OOMKilled {
		t.Errorf("oom sample = %+v, want OOMKilled", oom)
	}
	die := rec.waitFor(t, name, eventTimeout, "die", event(sdk.EventDie))
	if !die.OOMKilled || die.ExitCode != 137 || die.StopRequested {
		t.Errorf("die sample = %+v, want OOMKilled, exit 137, not a requested stop", die)
	}
	if !slices.Contains(die.LogTail, "allocating") {
		t.Errorf("log tail = %q, want it to hold the container's output", die.LogTail)
	}
}

// TestOOMKillAtStart allocates everything at once. The kill may come
// before the runtime watches the cgroup, and then the engine sends no oom
// event; with or without it, the die sample must say OOMKilled.
func TestOOMKillAtStart(t *testing.T) {
	cli := testenv.Docker(t)
	rec := startMonitor(t, map[string]any{})
	const limit = 16 << 20
	// containerd loses, now and then, the OOM of a process killed right
	// after its start (containerd/containerd#8180): the engine then never
	// learns of it — its own inspect says OOMKilled false — and nothing
	// the monitor does can tell. Such a run is tried again with a new
	// container; a monitor that misses an OOM the engine knows fails.
	for attempt := 1; ; attempt++ {
		name, id := runSickapp(t, cli, container.Config{},
			&container.HostConfig{Resources: container.Resources{Memory: limit, MemorySwap: limit}},
			"--alloc-mb", "256")
		die := rec.waitFor(t, name, eventTimeout, "die", event(sdk.EventDie))
		if die.ExitCode != 137 || die.StopRequested {
			t.Fatalf("die sample = %+v, want exit 137, not a requested stop", die)
		}
		if die.OOMKilled {
			return
		}
		// A loaded engine can learn of the OOM kill later than oomWait
		// after the die (see TestOOMEventAfterDie): the oom sample then
		// follows, and the host alerts the OOM kill from it.
		if _, ok := rec.await(name, eventTimeout, event(sdk.EventOOM)); ok {
			t.Logf("the engine recorded the OOM kill more than %v after the die", oomWait)
			return
		}
		inspected, err := cli.ContainerInspect(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if inspected.State.OOMKilled {
			t.Fatalf("the engine knows %s was OOM-killed, the monitor told no OOM; got %s", name, describe(rec.all(name)))
		}
		if attempt == 3 {
			t.Fatalf("the engine lost the OOM kill of %d containers in a row; got %s", attempt, describe(rec.all(name)))
		}
		t.Logf("attempt %d: the engine itself never learnt of %s's OOM kill; trying a new container", attempt, name)
	}
}

func TestHealthStatusUnhealthy(t *testing.T) {
	cli := testenv.Docker(t)
	rec := startMonitor(t, map[string]any{})
	name, _ := runSickapp(t, cli, container.Config{
		Healthcheck: &container.HealthConfig{
			Test:     []string{"CMD", "/sickapp", "health"},
			Interval: 200 * time.Millisecond,
			Timeout:  2 * time.Second,
			Retries:  1,
		},
	}, nil, "--log", "token=s3cr3t", "--health-file", "/tmp/healthy", "--unhealthy-after", "1500ms")

	healthy := rec.waitFor(t, name, eventTimeout, "healthy", func(s sdk.Sample) bool {
		return s.Event == sdk.EventHealthStatus && s.Health == sdk.HealthHealthy
	})
	if len(healthy.LogTail) != 0 {
		t.Errorf("healthy sample carries a log tail %q; only trouble should", healthy.LogTail)
	}
	bad := rec.waitFor(t, name, eventTimeout, "unhealthy", func(s sdk.Sample) bool {
		return s.Event == sdk.EventHealthStatus && s.Health == sdk.HealthUnhealthy
	})
	if bad.Status != "running" || !slices.Equal(bad.LogTail, []string{"token=[REDACTED]"}) {
		t.Errorf("unhealthy sample = %+v, want running with the redacted log tail", bad)
	}
}

func TestPauseUnpauseStopDestroy(t *testing.T) {
	cli := testenv.Docker(t)
	rec := startMonitor(t, map[string]any{})
	name, id := runSickapp(t, cli, container.Config{}, nil, "--idle")
	rec.waitFor(t, name, eventTimeout, "start", event(sdk.EventStart))
	ctx := context.Background()

	if err := cli.ContainerPause(ctx, id); err != nil {
		t.Fatal(err)
	}
	if s := rec.waitFor(t, name, eventTimeout, "pause", event(sdk.EventPause)); s.Status != "paused" {
		t.Errorf("pause sample status = %q, want paused", s.Status)
	}
	if err := cli.ContainerUnpause(ctx, id); err != nil {
		t.Fatal(err)
	}
	if s := rec.waitFor(t, name, eventTimeout, "unpause", event(sdk.EventUnpause)); s.Status != "running" {
		t.Errorf("unpause sample status = %q, want running", s.Status)
	}

	if err := cli.ContainerStop(ctx, id, container.StopOptions{}); err != nil {
		t.Fatal(err)
	}
	die := rec.waitFor(t, name, eventTimeout, "die", event(sdk.EventDie))
	if !die.StopRequested || die.ExitCode != 0 || die.RestartingByDocker || len(die.LogTail) != 0 {
		t.Errorf("die after docker stop = %+v, want StopRequested, exit 0, no restart, no log tail", die)
	}
	if s := rec.waitFor(t, name, eventTimeout, "stop", event(sdk.EventStop)); !s.StopRequested || s.Status != "exited" {
		t.Errorf("stop sample = %+v, want StopRequested and exited", s)
	}

	if err := cli.ContainerRemove(ctx, id, container.RemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	if s := rec.waitFor(t, name, eventTimeout, "destroy", event(sdk.EventDestroy)); s.Status != "removed" {
		t.Errorf("destroy sample status = %q, want removed", s.Status)
	}
}

func TestRestartPolicyOnFailure(t *testing.T) {
	cli := testenv.Docker(t)
	rec := startMonitor(t, map[string]any{"log_tail_lines": 0})
	name, id := runSickapp(t, cli, container.Config{},
		&container.HostConfig{RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyOnFailure, MaximumRetryCount: 2}},
		"--exit", "1", "--after", "200ms")

	// Two restarts, then the engine gives up: three dies in all.
	var dies []sdk.Sample
	rec.waitFor(t, name, 60*time.Second, "third die", func(sdk.Sample) bool {
		dies = dies[:0]
		for _, s := range rec.all(name) {
			if s.Event == sdk.EventDie {
				dies = append(dies, s)
			}
		}
		return len(dies) == 3
	})
	for i, d := range dies {
		wantRestart := i < 2
		if d.RestartingByDocker != wantRestart || d.ExitCode != 1 || d.StopRequested {
			t.Errorf("die %d = %+v, want RestartingByDocker %v, exit 1", i+1, d, wantRestart)
		}
		if wantRestart && d.Status != "restarting" || !wantRestart && d.Status != "exited" {
			t.Errorf("die %d status = %q", i+1, d.Status)
		}
		if d.RestartPolicy != "on-failure" || len(d.LogTail) != 0 {
			t.Errorf("die %d = %+v, want restart policy on-failure and no log tail (disabled)", i+1, d)
		}
	}
	inspect, err := cli.ContainerInspect(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if inspect.State.Running || inspect.RestartCount != 2 {
		t.Errorf("engine state: running %v, restarts %d; want stopped after 2 restarts", inspect.State.Running, inspect.RestartCount)
	}
	if got := dies[2].RestartCount; got != inspect.RestartCount {
		t.Errorf("last die RestartCount = %d, engine says %d", got, inspect.RestartCount)
	}
}

func TestInitialStateSamples(t *testing.T) {
	cli := testenv.Docker(t)
	exited, exitedID := runSickapp(t, cli, container.Config{}, nil, "--exit", "4")
	running, _ := runSickapp(t, cli, container.Config{}, nil, "--idle")
	waitExited(t, cli, exitedID)

	rec := startMonitor(t, map[string]any{})
	state := func(s sdk.Sample) bool { return s.Event == "" && s.Status != "" }
	if s := rec.waitFor(t, exited, eventTimeout, "state", state); s.Status != "exited" || s.ExitCode != 4 {
		t.Errorf("state of the exited container = %+v, want exited with code 4", s)
	}
	if s := rec.waitFor(t, running, eventTimeout, "state", state); s.Status != "running" || s.ExitCode != 0 || s.StartedAt.IsZero() {
		t.Errorf("state of the running container = %+v, want running", s)
	}
}

func TestScope(t *testing.T) {
	cli := testenv.Docker(t)
	tests := []struct {
		name         string
		cfg          map[string]any
		labels       map[string]string
		nameSuffix   string
		wantReported bool
	}{
		{"all reports plain", map[string]any{}, nil, "", true},
		{"all honours opt-out", map[string]any{}, map[string]string{LabelEnable: "false"}, "", false},
		{"exclude glob", map[string]any{"exclude": []string{"*-skipme"}}, nil, "-skipme", false},
		{"opt_in skips plain", map[string]any{"scope": "opt_in"}, nil, "", false},
		{"opt_in reports opted in", map[string]any{"scope": "opt_in"}, map[string]string{LabelEnable: "true"}, "", true},
		{"opt_in honours opt-out", map[string]any{"scope": "opt_in"}, map[string]string{LabelEnable: "false"}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := startMonitor(t, tt.cfg)
			img := testenv.TestImage(t)
			name := uniqueName(t) + tt.nameSuffix
			id := testenv.RunContainer(t, cli, name, &container.Config{Image: img, Labels: tt.labels, Cmd: []string{"--exit", "3"}}, nil)
			waitExited(t, cli, id)
			// A reported marker container dies after the one under test;
			// events are handled in order, so once its die is seen, the
			// tested container's die has been handled too.
			marker := uniqueName(t) + "-marker"
			testenv.RunContainer(t, cli, marker, &container.Config{Image: img, Labels: map[string]string{LabelEnable: "true"}, Cmd: []string{"--exit", "0"}}, nil)
			rec.waitFor(t, marker, eventTimeout, "marker die", event(sdk.EventDie))

			got := rec.all(name)
			if tt.wantReported && !slices.ContainsFunc(got, event(sdk.EventDie)) {
				t.Errorf("no die sample for a container in scope; got %s", describe(got))
			}
			if !tt.wantReported && len(got) > 0 {
				t.Errorf("samples for a container out of scope: %s", describe(got))
			}
		})
	}
}
