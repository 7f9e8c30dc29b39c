package testenv

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
)

// TestEnginesCoexist: two private engines run beside the shared one, each
// with its own container of the same name; the shared engine keeps
// answering; when the test is over each engine's process and directory
// are gone.
func TestEnginesCoexist(t *testing.T) {
	shared := Docker(t)
	var dirs []string
	var dones []chan struct{}
	t.Run("two engines", func(t *testing.T) {
		engines := StartEngines(t, 2)
		for _, e := range engines {
			dirs, dones = append(dirs, e.dir), append(dones, e.done)
			RunContainer(t, e.Client, "hs-engine-twin", &container.Config{Image: e.Image(t), Cmd: []string{"--idle"}}, nil)
		}
		ids := map[string]bool{}
		for _, e := range engines {
			c, err := e.Client.ContainerInspect(context.Background(), "hs-engine-twin")
			if err != nil || !c.State.Running {
				t.Fatalf("%s: twin = %v, %v; want running", e.Host, c.State, err)
			}
			ids[c.ID] = true
		}
		if len(ids) != 2 {
			t.Errorf("the two engines' twins are %d containers, want 2", len(ids))
		}
		if _, err := shared.Ping(context.Background()); err != nil {
			t.Fatalf("the shared engine stopped answering: %v", err)
		}
	})
	for i, dir := range dirs {
		select {
		case <-dones[i]:
		case <-time.After(time.Second):
			t.Errorf("dockerd of %s still runs after its test", dir)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%s still exists after its test (%v)", dir, err)
		}
	}
	if _, err := shared.Ping(context.Background()); err != nil {
		t.Fatalf("the shared engine stopped answering: %v", err)
	}
}
