package monitor

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/hemostat/hemostat/sdk"
)

// stallProxy forwards HTTP on loopback to the engine's unix socket, except
// the requests it is told to stall: those are accepted and never answered,
// as a wedged engine does.
type stallProxy struct {
	addr string

	mu      sync.Mutex
	stalled []string // path fragments
	hits    int
}

func newStallProxy(t *testing.T, cli *client.Client) *stallProxy {
	t.Helper()
	u, err := url.Parse(cli.DaemonHost())
	if err != nil || u.Scheme != "unix" {
		t.Fatalf("this test proxies a unix socket; the engine is at %q", cli.DaemonHost())
	}
	p := &stallProxy{}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.Out.URL.Scheme, r.Out.URL.Host = "http", "docker"
		},
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", u.Path)
		}},
		FlushInterval: -1, // the event stream
	}
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.stalls(r.URL.Path) {
			select {
			case <-r.Context().Done():
			case <-stop:
			}
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		close(stop)
		srv.CloseClientConnections()
		srv.Close()
	})
	p.addr = strings.TrimPrefix(srv.URL, "http://")
	return p
}

// stall makes every request whose path contains fragment hang.
func (p *stallProxy) stall(fragment string) {
	p.mu.Lock()
	p.stalled = append(p.stalled, fragment)
	p.mu.Unlock()
}

func (p *stallProxy) stalls(path string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range p.stalled {
		if strings.Contains(path, f) {
			p.hits++
			return true
		}
	}
	return false
}

func (p *stallProxy) stalledRequests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hits
}

// createSickapp creates, without starting, a test container running args,
// removed when the test ends.
func createSickapp(t *testing.T, cli *client.Client, args ...string) (string, string) {
	t.Helper()
	name := uniqueName(t)
	ctx := context.Background()
	c, err := cli.ContainerCreate(ctx,
		&container.Config{Image: testenv.TestImage(t), Cmd: args, Labels: map[string]string{testenv.TestLabel: "1"}},
		&container.HostConfig{NetworkMode: "none"}, nil, nil, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cli.ContainerRemove(context.Background(), c.ID, container.RemoveOptions{Force: true})
	})
	return name, c.ID
}

// TestStalledInspectDoesNotStopEvents has the engine never answer the
// inspect of one container: the event loop must give up on it and go on
// reporting, that container included.
func TestStalledInspectDoesNotStopEvents(t *testing.T) {
	cli := testenv.Docker(t)
	proxy := newStallProxy(t, cli)
	rec := startMonitor(t, map[string]any{"docker_host": "tcp://" + proxy.addr, "log_tail_lines": 0})

	stuck, stuckID := createSickapp(t, cli, "--exit", "3", "--after", "1s")
	proxy.stall("/containers/" + stuckID + "/json")
	ctx := context.Background()
	if err := cli.ContainerStart(ctx, stuckID, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	// Its first event asks for an inspect that never comes back; the
	// start is reported from the event's attributes once it times out.
	rec.waitFor(t, stuck, 3*engineCallTimeout, "start", event(sdk.EventStart))
	if d := rec.waitFor(t, stuck, eventTimeout, "die", event(sdk.EventDie)); d.ExitCode != 3 {
		t.Errorf("die = %+v, want exit 3", d)
	}
	after, _ := runSickapp(t, cli, container.Config{}, nil, "--idle")
	rec.waitFor(t, after, eventTimeout, "start", event(sdk.EventStart))
	if proxy.stalledRequests() == 0 {
		t.Fatal("the inspect was never stalled: the test tested nothing")
	}
}

// TestStalledStatsDoNotStopSampling has the engine never answer the stats
// of one container: the others must go on being sampled.
func TestStalledStatsDoNotStopSampling(t *testing.T) {
	cli := testenv.Docker(t)
	proxy := newStallProxy(t, cli)
	_, stuckID := runSickapp(t, cli, container.Config{}, nil, "--idle")
	fine, _ := runSickapp(t, cli, container.Config{}, nil, "--idle")
	proxy.stall("/containers/" + stuckID + "/stats")
	rec := startMonitor(t, map[string]any{"docker_host": "tcp://" + proxy.addr, "sampler": SamplerAPI, "interval": "1s"})

	resources := func(s sdk.Sample) bool { return s.Event == "" && s.MemoryUsage > 0 }
	// Every pass waits out the stalled read; three samples take a priming
	// pass and three more.
	rec.waitFor(t, fine, 4*(time.Second+statsGrace)+eventTimeout, "third resource", func(sdk.Sample) bool {
		n := 0
		for _, s := range rec.all(fine) {
			if resources(s) {
				n++
			}
		}
		return n >= 3
	})
	if proxy.stalledRequests() == 0 {
		t.Fatal("the stats were never stalled: the test tested nothing")
	}
}
