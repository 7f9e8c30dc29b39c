package dockerresponder

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/errdefs"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/hemostat/hemostat/sdk"
)

// testTimeout bounds one test's calls to the engine and the responder.
const testTimeout = 2 * time.Minute

// dockerTest is one test's handle on the engine and its image.
type dockerTest struct {
	t     *testing.T
	cli   *client.Client
	image string
	ctx   context.Context
}

func newDockerTest(t *testing.T) *dockerTest {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return &dockerTest{t: t, cli: testenv.Docker(t), image: testenv.TestImage(t), ctx: ctx}
}

// responder returns a configured Responder, shut down when the test ends.
func (d *dockerTest) responder(settings map[string]any) *Responder {
	d.t.Helper()
	raw, err := json.Marshal(settings)
	if err != nil {
		d.t.Fatal(err)
	}
	r := New()
	if err := r.Configure(d.ctx, raw, sdk.NewMemoryHost()); err != nil {
		d.t.Fatalf("Configure(%s): %v", raw, err)
	}
	d.t.Cleanup(func() { r.Shutdown(context.Background()) })
	return r
}

func (d *dockerTest) remediate(r *Responder, req sdk.RemediateRequest) sdk.Result {
	d.t.Helper()
	res, err := r.Remediate(d.ctx, req)
	if err != nil {
		d.t.Fatalf("Remediate(%+v): %v", req, err)
	}
	d.t.Logf("%s %s → %s %q state %q details %v", req.Action, req.Container, res.Status, res.Error, res.StateAfter, res.Details)
	return res
}

var unsafeName = regexp.MustCompile(`[^a-z0-9]+`)

// name returns a container name unique to the test and the process, so
// that parallel tests and packages do not collide.
func (d *dockerTest) name(suffix string) string {
	base := strings.Trim(unsafeName.ReplaceAllString(strings.ToLower(d.t.Name()), "-"), "-")
	return fmt.Sprintf("hsrd-%s-%s-%d", base, suffix, os.Getpid())
}

// sickapp runs the test image with args and returns the container's name.
func (d *dockerTest) sickapp(suffix string, cfg container.Config, host container.HostConfig, args ...string) string {
	d.t.Helper()
	name := d.name(suffix)
	cfg.Image = d.image
	cfg.Cmd = args
	testenv.RunContainer(d.t, d.cli, name, &cfg, &host)
	return name
}

// sharing creates and starts a sickapp container that joins the network
// namespace of ref (testenv.RunContainer forces network "none").
func (d *dockerTest) sharing(suffix, ref string) string {
	d.t.Helper()
	return d.sharingLabelled(suffix, ref, nil)
}

// sharingLabelled is sharing with more labels.
func (d *dockerTest) sharingLabelled(suffix, ref string, labels map[string]string) string {
	d.t.Helper()
	name := d.name(suffix)
	all := map[string]string{testenv.TestLabel: "1"}
	maps.Copy(all, labels)
	created, err := d.cli.ContainerCreate(d.ctx,
		&container.Config{Image: d.image, Labels: all},
		&container.HostConfig{NetworkMode: container.NetworkMode("container:" + ref)}, nil, nil, name)
	if err != nil {
		d.t.Fatalf("create %s: %v", name, err)
	}
	d.t.Cleanup(func() {
		err := d.cli.ContainerRemove(context.Background(), created.ID, container.RemoveOptions{Force: true})
		if err != nil && !errdefs.IsNotFound(err) {
			d.t.Errorf("remove %s: %v", name, err)
		}
	})
	if err := d.cli.ContainerStart(d.ctx, created.ID, container.StartOptions{}); err != nil {
		d.t.Fatalf("start %s: %v", name, err)
	}
	return name
}

func (d *dockerTest) inspect(name string) container.InspectResponse {
	d.t.Helper()
	c, err := d.cli.ContainerInspect(d.ctx, name)
	if err != nil {
		d.t.Fatalf("inspect %s: %v", name, err)
	}
	return c
}

// exists reports whether the container is still there.
func (d *dockerTest) exists(name string) bool {
	d.t.Helper()
	_, err := d.cli.ContainerInspect(d.ctx, name)
	if err != nil && !errdefs.IsNotFound(err) {
		d.t.Fatalf("inspect %s: %v", name, err)
	}
	return err == nil
}

// waitFor polls the container until cond holds.
func (d *dockerTest) waitFor(name, what string, cond func(container.InspectResponse) bool) container.InspectResponse {
	d.t.Helper()
	for {
		c := d.inspect(name)
		if cond(c) {
			return c
		}
		select {
		case <-d.ctx.Done():
			d.t.Fatalf("%s: never %s (state %s)", name, what, describeState(c))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (d *dockerTest) waitExited(name string) container.InspectResponse {
	d.t.Helper()
	return d.waitFor(name, "exited", func(c container.InspectResponse) bool {
		return c.State.Status == container.StateExited
	})
}

func (d *dockerTest) waitHealthy(name string) container.InspectResponse {
	d.t.Helper()
	return d.waitFor(name, "healthy", func(c container.InspectResponse) bool {
		return c.State.Health != nil && c.State.Health.Status == container.Healthy
	})
}

// healthcheck runs "sickapp health" against file every interval.
func healthcheck(file string, interval time.Duration) *container.HealthConfig {
	return &container.HealthConfig{
		Test:     []string{"CMD", "/sickapp", "health", "--health-file", file},
		Interval: interval, Timeout: 5 * time.Second, Retries: 1,
	}
}

func startedAt(t *testing.T, c container.InspectResponse) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, c.State.StartedAt)
	if err != nil {
		t.Fatalf("StartedAt %q: %v", c.State.StartedAt, err)
	}
	return ts
}

func wantStatus(t *testing.T, res sdk.Result, status string, errorHas string) {
	t.Helper()
	if res.Status != status {
		t.Fatalf("status %q (error %q), want %q", res.Status, res.Error, status)
	}
	if !strings.Contains(res.Error, errorHas) {
		t.Fatalf("error %q does not contain %q", res.Error, errorHas)
	}
}
