package dockere2e

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hemostat/hemostat/internal/daemontest"
)

// testCrashDuringMonitorRestart: the monitor plugin is killed and, while
// the supervisor brings it back, a container dies. No plugin saw the die
// event; the restarted plugin's first sync shows the container exited, and
// hemostatd, which last saw it running, must treat that as the crash it
// is: alerted once, restarted.
func testCrashDuringMonitorRestart(t *testing.T) {
	e := newEngine(t)
	p := scenarioPrefix()
	d := startDaemon(t, p, newSettings())
	name := p + "gap"
	id := e.run(t, name, []string{"--idle"}, nil, nil)
	before := e.startedAt(t, id)
	waitWatched(t, d, name)

	monitor := findPlugin(t, d, "monitor", "docker")
	if err := syscall.Kill(monitor.PID, syscall.SIGKILL); err != nil {
		t.Fatalf("kill the monitor plugin %d: %v", monitor.PID, err)
	}
	// The crash, from outside the engine: no kill event, exit code 137.
	if err := syscall.Kill(e.inspect(t, id).State.Pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill the container's process: %v", err)
	}

	killed := time.Now()
	d.watch.WaitFor(t, completeType, name, daemontest.StatusIs("success"), 60*time.Second)
	t.Logf("healed %s after the kills", time.Since(killed).Round(time.Millisecond))
	e.expectRestarted(t, id, before)
	back := findPlugin(t, d, "monitor", "docker")
	if back.PID == monitor.PID || back.Restarts < 1 {
		t.Fatalf("the monitor plugin was not restarted: %+v", back)
	}
	d.watch.Quiet(t, name, 3*time.Second, 20*time.Second)
	d.watch.ExpectTrace(t, name,
		"health_alert Exited with code 137",
		"remediation_needed restart",
		"remediation_complete restart success",
	)
	alert := d.watch.WaitFor(t, alertType, name, nil, 0)
	t.Logf("the alert came from a %q sample", alert.Str("metrics", "event"))
}

// findPlugin returns the plugin's entry in hemostatd's status.
func findPlugin(t *testing.T, d *daemon, role, name string) daemontest.PluginStatus {
	t.Helper()
	for _, p := range d.Plugins(t) {
		if strings.EqualFold(p.Role, role) && p.Name == name {
			return p
		}
	}
	t.Fatalf("plugin %s/%s not in the status: %+v", role, name, d.Plugins(t))
	return daemontest.PluginStatus{}
}
