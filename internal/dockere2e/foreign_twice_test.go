package dockere2e

import (
	"strings"
	"testing"
	"time"
)

// testTwoDaemons: two hemostatd on one engine, each with its own Redis,
// both heal the same crashing container — each restart doubled. Each
// sees the other's restarts beside its own: each logs the warning once
// and publishes foreign_action on its own bus.
func testTwoDaemons(t *testing.T) {
	e := newEngine(t)
	p := scenarioPrefix()
	s := newSettings()
	s.BackoffInitial, s.BackoffMax = "8s", "1m"
	daemons := []*daemon{startDaemon(t, p, s), startDaemon(t, p, s)}
	name := p + "twice"
	e.run(t, name, []string{"--exit", "3", "--after", "2s"}, nil, nil)

	for i, d := range daemons {
		w := d.watch.WaitFor(t, foreignType, name, nil, 2*time.Minute)
		if !byAnotherClient(w) {
			t.Errorf("hemostatd %d: foreign_action %s, want a restart, stop or kill by another client", i+1, w.Raw)
		}
	}
	for i, d := range daemons {
		// The plugin's log line reaches hemostatd's log through a pipe,
		// beside the event.
		logged := warnLines(d.Logs(), "by another client")
		for deadline := time.Now().Add(10 * time.Second); len(logged) == 0 && time.Now().Before(deadline); {
			time.Sleep(100 * time.Millisecond)
			logged = warnLines(d.Logs(), "by another client")
		}
		if len(logged) != 1 {
			t.Errorf("hemostatd %d logged %d warnings, want exactly one:\n%s", i+1, len(logged), strings.Join(logged, "\n"))
			continue
		}
		t.Logf("hemostatd %d logged: %s", i+1, logged[0])
	}
}
