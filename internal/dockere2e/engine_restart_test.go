package dockere2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/hemostat/hemostat/internal/daemontest"
)

// Bounds of the engine restart.
const (
	// engineIdleWait is how long the test waits for other people's
	// containers to finish before it would stop the engine under them.
	engineIdleWait = 2 * time.Minute
	engineStopWait = time.Minute
	engineUpWait   = time.Minute
)

// testEngineRestart stops and restarts dockerd under a running hemostatd:
// the monitor must reconnect and detect and heal the next crash.
//
// Restarting the engine stops every running container on the machine, so
// the test takes care that it harms nobody:
//   - TestHealing runs it after every other scenario of this package has
//     finished; its own containers are the only ones of the package left;
//   - it waits until the engine runs no container but its own, so the
//     tests of other packages sharing the engine are not cut short, and
//     fails rather than stop theirs;
//   - it starts dockerd again with the running one's own command line,
//     detached from the test, exactly as the test script starts it; a
//     cleanup starts it again whatever happened in between, so a failed
//     test never leaves the machine without an engine;
//   - exited containers and images survive an engine restart.
func testEngineRestart(t *testing.T) {
	e := newEngine(t)
	p := scenarioPrefix()
	d := startDaemon(t, p, newSettings())
	before := p + "before"
	e.run(t, before, []string{"--idle"}, nil, nil)
	waitWatched(t, d, before)

	restartEngine(t, e.cli, p)

	// A container the monitor samples proves its event stream and resync
	// are back; only then is the crash that must be healed started.
	probe := p + "probe"
	e.run(t, probe, []string{"--idle"}, nil, nil)
	waitWatched(t, d, probe)
	d.Alive(t)
	name := p + "after"
	id := e.run(t, name, []string{"--exit", "3", "--after", "2s"}, nil, nil)
	started := e.startedAt(t, id)
	d.watch.WaitFor(t, completeType, name, daemontest.StatusIs("success"), 60*time.Second)
	e.expectRestarted(t, id, started)
	d.watch.ExpectTrace(t, name, healed...)
	if !strings.Contains(d.Logs(), "docker events stream lost") {
		t.Errorf("hemostatd's log does not show the monitor losing its event stream: was the engine restarted?")
	}
}

// restartEngine stops the running dockerd with SIGTERM, waits for it to
// exit and starts it again with the same command line, once no container
// but those named with ours (the prefix) is running.
func restartEngine(t *testing.T, cli *client.Client, ours string) {
	t.Helper()
	pid, args := runningDockerd(t)
	waitEngineIdle(t, cli, ours)

	logPath := filepath.Join(os.TempDir(), "hemostat-dockere2e-dockerd.log")
	t.Cleanup(func() {
		if engineUp(cli) {
			return
		}
		t.Logf("the engine is down at the end of the test; starting it again")
		startDockerd(t, args, logPath)
		waitEngineUp(t, cli)
	})

	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM dockerd (pid %d): %v", pid, err)
	}
	deadline := time.Now().Add(engineStopWait)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("dockerd (pid %d) did not exit within %s of SIGTERM", pid, engineStopWait)
		}
		time.Sleep(100 * time.Millisecond)
	}
	startDockerd(t, args, logPath)
	waitEngineUp(t, cli)
}

// runningDockerd finds the one running dockerd and its command line.
func runningDockerd(t *testing.T) (int, []string) {
	t.Helper()
	out, err := exec.Command("pidof", "dockerd").Output()
	if err != nil {
		t.Fatalf("pidof dockerd: %v (is the engine a local dockerd?)", err)
	}
	fields := strings.Fields(string(out))
	if len(fields) != 1 {
		t.Fatalf("pidof dockerd = %q, want exactly one dockerd", out)
	}
	pid, err := strconv.Atoi(fields[0])
	if err != nil {
		t.Fatalf("pidof dockerd = %q: %v", out, err)
	}
	raw, err := os.ReadFile(filepath.Join("/proc", fields[0], "cmdline"))
	if err != nil {
		t.Fatalf("dockerd's command line: %v", err)
	}
	args := strings.Split(string(bytes.TrimRight(raw, "\x00")), "\x00")
	if len(args) == 0 || filepath.Base(args[0]) != "dockerd" {
		t.Fatalf("dockerd's command line %q is not a dockerd", args)
	}
	return pid, args
}

// startDockerd starts dockerd in its own session, detached from the test
// binary (like nohup … &), logging to logPath.
func startDockerd(t *testing.T, args []string, logPath string) {
	t.Helper()
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatalf("dockerd log: %v", err)
	}
	defer logFile.Close()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dockerd: %v", err)
	}
	// The engine outlives the test: nothing waits for it.
	if err := cmd.Process.Release(); err != nil {
		t.Fatalf("release dockerd: %v", err)
	}
}

func engineUp(cli *client.Client) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := cli.Info(ctx)
	return err == nil
}

func waitEngineUp(t *testing.T, cli *client.Client) {
	t.Helper()
	deadline := time.Now().Add(engineUpWait)
	for !engineUp(cli) {
		if time.Now().After(deadline) {
			t.Fatalf("the engine did not answer within %s of its restart", engineUpWait)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// waitEngineIdle waits until every running container is one of ours.
func waitEngineIdle(t *testing.T, cli *client.Client, ours string) {
	t.Helper()
	deadline := time.Now().Add(engineIdleWait)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		list, err := cli.ContainerList(ctx, container.ListOptions{})
		cancel()
		if err != nil {
			t.Fatalf("list containers: %v", err)
		}
		var others []string
		for _, c := range list {
			if len(c.Names) == 0 || !strings.HasPrefix(strings.TrimPrefix(c.Names[0], "/"), ours) {
				others = append(others, strings.Join(c.Names, ","))
			}
		}
		if len(others) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not restarting the shared engine: other containers still run after %s: %v", engineIdleWait, others)
		}
		time.Sleep(time.Second)
	}
}
