package dockere2e

import (
	"context"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/hemostat/hemostat/internal/testenv"
)

// engine is the Docker side of a scenario: a client and the test image.
type engine struct {
	cli   *client.Client
	image string
}

func newEngine(t testing.TB) engine {
	t.Helper()
	return engine{cli: testenv.Docker(t), image: testenv.TestImage(t)}
}

// run starts a sickapp container with args; cfg and host, when not nil,
// carry the rest (labels, healthcheck, limits). It is removed when the test
// ends.
func (e engine) run(t testing.TB, name string, args []string, cfg *container.Config, host *container.HostConfig) string {
	t.Helper()
	c := container.Config{}
	if cfg != nil {
		c = *cfg
	}
	c.Image, c.Cmd = e.image, args
	return testenv.RunContainer(t, e.cli, name, &c, host)
}

func (e engine) inspect(t testing.TB, id string) container.InspectResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := e.cli.ContainerInspect(ctx, id)
	if err != nil {
		t.Fatalf("inspect %s: %v", id[:12], err)
	}
	return c
}

func (e engine) startedAt(t testing.TB, id string) string {
	t.Helper()
	return e.inspect(t, id).State.StartedAt
}

// waitState polls the container until ok says yes, failing after timeout.
func (e engine) waitState(t testing.TB, id, what string, ok func(*container.State) bool, timeout time.Duration) container.InspectResponse {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c := e.inspect(t, id)
		if ok(c.State) {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s not %s within %s: %+v", c.Name, what, timeout, *c.State)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func running(s *container.State) bool { return s.Running && !s.Restarting }
func exited(s *container.State) bool  { return s.Status == container.StateExited }

func parseTime(t testing.TB, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("engine time %q: %v", s, err)
	}
	return at
}

// expectRestarted asserts the container runs and was started again
// since before (a StartedAt of an earlier inspect).
func (e engine) expectRestarted(t testing.TB, id, before string) {
	t.Helper()
	c := e.inspect(t, id)
	if !c.State.Running {
		t.Fatalf("%s is %s, want running after the restart", c.Name, c.State.Status)
	}
	if !parseTime(t, c.State.StartedAt).After(parseTime(t, before)) {
		t.Fatalf("%s StartedAt = %s, want later than %s", c.Name, c.State.StartedAt, before)
	}
}

// expectUntouched asserts the container is in status and was not started
// again since before.
func (e engine) expectUntouched(t testing.TB, id, status, before string) {
	t.Helper()
	c := e.inspect(t, id)
	if c.State.Status != status {
		t.Fatalf("%s is %s, want %s", c.Name, c.State.Status, status)
	}
	if c.State.StartedAt != before {
		t.Fatalf("%s StartedAt = %s, want unchanged %s: it was started again", c.Name, c.State.StartedAt, before)
	}
}
