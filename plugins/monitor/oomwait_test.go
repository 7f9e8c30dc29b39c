package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/hemostat/hemostat/sdk"
)

// lateOOMProxy forwards HTTP on loopback to the engine's unix socket and
// plays the race of a loaded engine for one container: its oom event
// reaches the client delay after its die, and until then the container's
// inspect does not say OOMKilled (the engine records the kill when it
// handles the oom).
type lateOOMProxy struct {
	addr   string
	target string // container ID
	delay  time.Duration

	mu       sync.Mutex
	released bool
}

func newLateOOMProxy(t *testing.T, cli *client.Client, target string, delay time.Duration) *lateOOMProxy {
	t.Helper()
	u, err := url.Parse(cli.DaemonHost())
	if err != nil || u.Scheme != "unix" {
		t.Fatalf("this test proxies a unix socket; the engine is at %q", cli.DaemonHost())
	}
	transport := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", u.Path)
	}}
	p := &lateOOMProxy{target: target, delay: delay}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.Out.URL.Scheme, r.Out.URL.Host = "http", "docker"
		},
		Transport:      transport,
		ModifyResponse: p.maskInspect,
	}
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/events") {
			p.events(w, r, transport, stop)
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

// events relays the event stream, holding the target's oom events back.
func (p *lateOOMProxy) events(w http.ResponseWriter, r *http.Request, transport http.RoundTripper, stop <-chan struct{}) {
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.URL.Scheme, out.URL.Host = "http", "docker"
	resp, err := transport.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	// Held events are written by their own goroutines, which end before
	// the handler does: a ResponseWriter is not to be used after.
	var held sync.WaitGroup
	defer held.Wait()
	var wmu sync.Mutex
	write := func(raw json.RawMessage) {
		wmu.Lock()
		defer wmu.Unlock()
		w.Write(append(raw, '\n'))
		w.(http.Flusher).Flush()
	}
	write(nil) // the headers, at once, as the engine sends them
	dec := json.NewDecoder(resp.Body)
	var ooms []json.RawMessage // the target's, until its die is out
	var dieAt time.Time        // when the target's die went out
	// release sends held oom events delay after the die.
	release := func(late []json.RawMessage) {
		held.Add(1)
		go func() {
			defer held.Done()
			select {
			case <-time.After(time.Until(dieAt.Add(p.delay))):
			case <-stop:
				return
			case <-r.Context().Done():
				return
			}
			p.mu.Lock()
			p.released = true
			p.mu.Unlock()
			for _, raw := range late {
				write(raw)
			}
		}()
	}
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return
		}
		var m struct {
			Action string
			Actor  struct{ ID string }
		}
		json.Unmarshal(raw, &m)
		if m.Actor.ID == p.target && m.Action == "oom" {
			if !dieAt.IsZero() {
				// The engine itself sent it after the die, as a loaded
				// engine does: it still goes out no sooner than delay
				// after the die.
				release([]json.RawMessage{raw})
				continue
			}
			ooms = append(ooms, raw)
			continue
		}
		write(raw)
		if m.Actor.ID != p.target || m.Action != "die" {
			continue
		}
		dieAt = time.Now()
		late := ooms
		ooms = nil
		release(late)
	}
}

// maskInspect clears State.OOMKilled in the target's inspect until its
// oom event is released: the engine records the kill when it handles it.
func (p *lateOOMProxy) maskInspect(resp *http.Response) error {
	if !strings.HasSuffix(resp.Request.URL.Path, "/containers/"+p.target+"/json") {
		return nil
	}
	p.mu.Lock()
	released := p.released
	p.mu.Unlock()
	if released {
		return nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err == nil {
		if st, ok := doc["State"].(map[string]any); ok {
			st["OOMKilled"] = false
			body, _ = json.Marshal(doc)
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return nil
}

// TestOOMEventAfterDie has the engine send a container's oom event after
// its die, as a loaded engine does: a die with exit 137 must wait for the
// oom (within oomWait) rather than report a plain exit, and when the oom
// comes later than that, it still comes, after the die.
func TestOOMEventAfterDie(t *testing.T) {
	for _, tc := range []struct {
		name    string
		delay   time.Duration
		wantOOM bool // on the die sample
	}{
		{"within the wait", oomWait / 3, true},
		{"after the wait", 4 * oomWait, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cli := testenv.Docker(t)
			const limit = 32 << 20
			name := uniqueName(t)
			ctx := context.Background()
			c, err := cli.ContainerCreate(ctx,
				&container.Config{
					Image:  testenv.TestImage(t),
					Cmd:    []string{"--log", "allocating", "--mem-mb-per-sec", "256"},
					Labels: map[string]string{testenv.TestLabel: "1"},
				},
				&container.HostConfig{NetworkMode: "none", Resources: container.Resources{Memory: limit, MemorySwap: limit}},
				nil, nil, name)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				cli.ContainerRemove(context.Background(), c.ID, container.RemoveOptions{Force: true})
			})
			proxy := newLateOOMProxy(t, cli, c.ID, tc.delay)
			rec := startMonitor(t, map[string]any{"docker_host": "tcp://" + proxy.addr})
			if err := cli.ContainerStart(ctx, c.ID, container.StartOptions{}); err != nil {
				t.Fatal(err)
			}

			die := rec.waitFor(t, name, eventTimeout, "die", event(sdk.EventDie))
			if die.OOMKilled != tc.wantOOM || die.ExitCode != 137 || die.StopRequested {
				t.Errorf("die sample = %+v, want OOMKilled=%v, exit 137, not a requested stop", die, tc.wantOOM)
			}
			rec.waitFor(t, name, eventTimeout, "oom", event(sdk.EventOOM))
			if tc.wantOOM {
				// The die may come before or after the oom sample: an
				// inspect answered after the oom completes it at once.
				return
			}
			var order []string
			for _, s := range rec.all(name) {
				if s.Event == sdk.EventDie || s.Event == sdk.EventOOM {
					order = append(order, s.Event)
				}
			}
			// Too late for the die; the oom sample still follows it, and
			// the host alerts the OOM kill then.
			if want := []string{sdk.EventDie, sdk.EventOOM}; !slices.Equal(order, want) {
				t.Errorf("lifecycle samples %v, want %v:%s", order, want, describe(rec.all(name)))
			}
		})
	}
}
