package dockere2e

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/hemostat/hemostat/internal/daemontest"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/hemostat/hemostat/sdk"
)

// foreignType is the channel of another healer's warnings.
const foreignType = sdk.EventForeignAction

// foreignWindow mirrors the responder's: another client's operation up to
// this long after our action is still compared with it.
const foreignWindow = 5 * time.Second

// testAnotherHealer: a second healer, written like docker-autoheal but
// driven by the engine's die events, restarts the contested container
// whenever it crashes, beside hemostatd. hemostatd logs the warning once
// — although it publishes a foreign_action for each of its actions the
// other healer raced — and counts every time in
// hemostat_foreign_actions_total. A container hemostatd heals alone in
// the same run gets no warning. The backoff is long enough that each of
// hemostatd's actions is followed on its own.
func testAnotherHealer(t *testing.T) {
	e := newEngine(t)
	p := scenarioPrefix()
	s := newSettings()
	s.BackoffInitial, s.BackoffMax = "8s", "1m"
	d := startDaemon(t, p, s)
	contested, alone := p+"contested", p+"alone"
	e.run(t, contested, []string{"--exit", "3", "--after", "2s"}, nil, nil)
	otherHealer(t, contested)
	e.run(t, alone, []string{"--exit", "3", "--after", "2s"}, nil, nil)

	warnings := d.watch.WaitN(t, foreignType, contested, 2, nil, 2*time.Minute)
	// The other healer only restarts; when its restart races one of
	// hemostatd's that fails, the restart event may be taken for ours and
	// what is left of it read as a stop.
	restarts := 0
	for _, w := range warnings {
		if w.Str("action") == "restart" {
			restarts++
		}
		if !byAnotherClient(w) {
			t.Errorf("foreign_action %s, want a restart, stop or kill by another client", w.Raw)
		}
	}
	if restarts == 0 {
		t.Errorf("no foreign_action names a restart:\n%s", d.watch.Dump(contested))
	}
	re := regexp.MustCompile(`(?m)^hemostat_foreign_actions_total (\d+)`)
	m := re.FindStringSubmatch(d.Metrics(t))
	if m == nil {
		t.Fatalf("no hemostat_foreign_actions_total in /metrics")
	}
	if n, _ := strconv.Atoi(m[1]); n < len(warnings) {
		t.Errorf("hemostat_foreign_actions_total = %d, want at least %d", n, len(warnings))
	}

	// hemostatd healed the other container on its own, and the window
	// after its first restart has passed.
	first := d.watch.WaitFor(t, completeType, alone, daemontest.StatusIs("success"), time.Minute)
	time.Sleep(time.Until(first.At.Add(foreignWindow + 2*time.Second)))
	if n := d.watch.Count(foreignType, alone); n != 0 {
		t.Errorf("%d foreign_action events about %s, which only hemostatd heals:\n%s", n, alone, d.watch.Dump(alone))
	}
	logged := warnLines(d.Logs(), "by another client")
	if len(logged) != 1 || !strings.Contains(logged[0], contested) {
		t.Fatalf("%d warnings logged, want exactly one about %s:\n%s", len(logged), contested, strings.Join(logged, "\n"))
	}
	t.Logf("logged: %s", logged[0])
}

// byAnotherClient says whether m is a foreign_action that names what
// another client did.
func byAnotherClient(m daemontest.Message) bool {
	switch m.Str("action") {
	case "restart", "stop", "kill":
		return strings.Contains(m.Str("message"), "ed by another client")
	}
	return false
}

// warnLines returns the responder plugin's lines of logs at level warn
// that contain text: its warning is the one logged once; the alert role
// tells the same foreign_action to people as a notification of its own.
func warnLines(logs, text string) []string {
	var out []string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, text) && strings.Contains(l, ".plugin.responder.") && strings.Contains(strings.ToLower(l), "warn") {
			out = append(out, l)
		}
	}
	return out
}

// otherHealer restarts name each time it exits with a non-zero code, at
// the engine's die event, as a second healer on the engine would, until
// the test ends.
func otherHealer(t *testing.T, name string) {
	t.Helper()
	cli := testenv.Docker(t)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	msgs, errs := cli.Events(ctx, events.ListOptions{Filters: filters.NewArgs(
		filters.Arg("type", string(events.ContainerEventType)),
		filters.Arg("container", name),
		filters.Arg("event", "die"),
	)})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case m := <-msgs:
				if m.Actor.Attributes["exitCode"] == "0" {
					continue
				}
				timeout := 2
				if err := cli.ContainerRestart(ctx, m.Actor.ID, container.StopOptions{Timeout: &timeout}); err != nil && ctx.Err() == nil {
					t.Logf("the other healer's restart of %s: %v", name, err)
				}
			case <-errs:
				return
			}
		}
	}()
}
