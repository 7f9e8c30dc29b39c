package dockere2e

import (
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/hemostat/hemostat/internal/daemontest"
)

// testOptOut: a container labelled hemostat.enable=false crashes beside one
// that is not labelled; only the second is healed, and nothing at all is
// published about the first.
func testOptOut(t *testing.T) {
	e := newEngine(t)
	p := scenarioPrefix()
	d := startDaemon(t, p, newSettings())
	out := p + "optout"
	id := e.run(t, out, []string{"--exit", "3", "--after", "1s"},
		&container.Config{Labels: map[string]string{"hemostat.enable": "false"}}, nil)
	before := e.startedAt(t, id)
	control := p + "control"
	e.run(t, control, []string{"--exit", "3", "--after", "1s"}, nil, nil)

	// The control's healing shows the daemon was watching all along.
	d.watch.WaitFor(t, completeType, control, daemontest.StatusIs("success"), 30*time.Second)
	e.waitState(t, id, "exited", exited, 10*time.Second)
	d.watch.Quiet(t, out, 3*time.Second, 10*time.Second)
	d.watch.ExpectTrace(t, out)
	e.expectUntouched(t, id, container.StateExited, before)
}

// testProtected: a container whose name matches the default protected glob
// "*redis*" crashes; the responder refuses with the reason and leaves it.
func testProtected(t *testing.T) {
	e := newEngine(t)
	p := scenarioPrefix()
	d := startDaemon(t, p, newSettings())
	name := p + "redis"
	id := e.run(t, name, []string{"--exit", "3", "--after", "1s"}, nil, nil)
	before := e.startedAt(t, id)

	rejected := d.watch.WaitFor(t, completeType, name, nil, 30*time.Second)
	d.watch.Quiet(t, name, 3*time.Second, 20*time.Second)
	d.watch.ExpectTrace(t, name,
		"health_alert Exited with code 3",
		"remediation_needed restart",
		"remediation_complete restart rejected",
	)
	if r := rejected.Str("result", "reason"); !strings.Contains(r, "protected") {
		t.Errorf("rejection reason %q does not say the container is protected", r)
	}
	e.expectUntouched(t, id, container.StateExited, before)
}

// testDryRun: in dry-run mode the crash is judged and reported as dry_run,
// and the container stays down.
func testDryRun(t *testing.T) {
	e := newEngine(t)
	p := scenarioPrefix()
	s := newSettings()
	s.DryRun = true
	d := startDaemon(t, p, s)
	name := p + "dry"
	id := e.run(t, name, []string{"--exit", "3", "--after", "1s"}, nil, nil)
	before := e.startedAt(t, id)

	done := d.watch.WaitFor(t, completeType, name, nil, 30*time.Second)
	d.watch.Quiet(t, name, 3*time.Second, 20*time.Second)
	d.watch.ExpectTrace(t, name,
		"health_alert Exited with code 3",
		"remediation_needed restart",
		"remediation_complete restart dry_run",
	)
	if dry, _ := done.Result()["dry_run"].(bool); !dry {
		t.Errorf("result.dry_run is not true: %s", done.Raw)
	}
	e.expectUntouched(t, id, container.StateExited, before)
}
