package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/hemostat/hemostat/sdk"
	"github.com/redis/go-redis/v9"
)

// binaries are built once per test run into one directory.
var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// pluginBinaries maps a plugin's file name in the plugin directory to the
// package it is built from.
var pluginBinaries = map[string]string{
	"hemostat-monitor-script":       "github.com/hemostat/hemostat/internal/e2e/plugins/monitor-script",
	"hemostat-responder-record":     "github.com/hemostat/hemostat/internal/e2e/plugins/responder-record",
	"hemostat-alert-record":         "github.com/hemostat/hemostat/internal/e2e/plugins/alert-record",
	"hemostat-analyzer-maintenance": "github.com/hemostat/hemostat/examples/analyzer-maintenance",
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// build compiles hemostatd and the plugins once; the plugin directory holds
// the custom plugins exactly as a user would drop them in.
func build(t testing.TB) (hemostatd, pluginDir string) {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "hemostat-e2e-")
		if buildErr != nil {
			return
		}
		if buildErr = goBuild(filepath.Join(buildDir, "hemostatd"), "github.com/hemostat/hemostat/cmd/hemostatd"); buildErr != nil {
			return
		}
		for file, pkg := range pluginBinaries {
			if buildErr = goBuild(filepath.Join(buildDir, "plugins", file), pkg); buildErr != nil {
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatalf("build: %v", buildErr)
	}
	return filepath.Join(buildDir, "hemostatd"), filepath.Join(buildDir, "plugins")
}

func goBuild(out, pkg string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

// daemon is one hemostatd process under test.
type daemon struct {
	t       testing.TB
	cmd     *exec.Cmd
	logs    *syncBuffer
	http    string
	rdb     *redis.Client
	exited  chan struct{}
	exitErr error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startDaemon writes cfg (with the redis address, HTTP port and plugin dir
// filled in for %[1]s, %[2]s and %[3]s) and runs hemostatd on it until the
// test ends.
func startDaemon(t testing.TB, srv *testenv.RedisServer, cfgTemplate string) *daemon {
	t.Helper()
	bin, pluginDir := build(t)
	httpAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cfgText := strings.NewReplacer("{{redis}}", srv.Addr(), "{{http}}", httpAddr, "{{plugins}}", pluginDir).Replace(cfgTemplate)
	cfgPath := filepath.Join(t.TempDir(), "hemostat.hcl")
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	d := &daemon{t: t, logs: &syncBuffer{}, http: httpAddr, rdb: srv.Client(t), exited: make(chan struct{})}
	d.cmd = exec.Command(bin, "-config", cfgPath)
	d.cmd.Stdout, d.cmd.Stderr = d.logs, d.logs
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		d.exitErr = d.cmd.Wait()
		close(d.exited)
	}()
	t.Cleanup(func() {
		d.stop()
		if t.Failed() {
			t.Logf("hemostatd log:\n%s", d.logs.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + httpAddr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-d.exited:
			t.Fatalf("hemostatd exited at start-up: %v\n%s", d.exitErr, d.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("hemostatd did not become healthy:\n%s", d.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return d
}

// stop sends SIGTERM and waits for a clean exit.
func (d *daemon) stop() {
	select {
	case <-d.exited:
		return
	default:
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(20 * time.Second):
		d.cmd.Process.Kill()
		<-d.exited
		d.t.Errorf("hemostatd did not stop within 20s of SIGTERM")
	}
}

// pluginStatus is the part of /api/v1/status the tests read.
type pluginStatus struct {
	Role     string `json:"role"`
	Name     string `json:"name"`
	PID      int    `json:"pid"`
	State    string `json:"state"`
	Restarts int    `json:"restarts"`
}

func (d *daemon) plugins() []pluginStatus {
	d.t.Helper()
	resp, err := http.Get("http://" + d.http + "/api/v1/status")
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		Plugins []pluginStatus `json:"plugins"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		d.t.Fatal(err)
	}
	return st.Plugins
}

func (d *daemon) metrics() string {
	d.t.Helper()
	resp, err := http.Get("http://" + d.http + "/metrics")
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// script appends samples to the scripted monitor's script.
func script(t testing.TB, rdb *redis.Client, samples ...sdk.Sample) {
	t.Helper()
	ctx := context.Background()
	key := protocol.StateKey("e2e-script")
	var cur struct {
		Samples []sdk.Sample `json:"samples"`
	}
	if raw, err := rdb.Get(ctx, key).Bytes(); err == nil {
		if err := json.Unmarshal(raw, &cur); err != nil {
			t.Fatal(err)
		}
	}
	cur.Samples = append(cur.Samples, samples...)
	raw, _ := json.Marshal(cur)
	if err := rdb.Set(ctx, key, raw, 0).Err(); err != nil {
		t.Fatal(err)
	}
}

// message is one envelope seen on a channel.
type message struct {
	Channel string
	Raw     string
	Env     map[string]any
}

func (m message) data() map[string]any {
	d, _ := m.Env["data"].(map[string]any)
	return d
}

// watcher is a raw Redis subscriber on every HemoStat channel.
type watcher struct {
	mu   sync.Mutex
	msgs []message
	more chan struct{}
}

func watch(t testing.TB, rdb *redis.Client) *watcher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ps := rdb.PSubscribe(ctx, protocol.Prefix+"*")
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	w := &watcher{more: make(chan struct{}, 1)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			msg, err := ps.ReceiveMessage(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				continue
			}
			var env map[string]any
			_ = json.Unmarshal([]byte(msg.Payload), &env)
			w.mu.Lock()
			w.msgs = append(w.msgs, message{Channel: msg.Channel, Raw: msg.Payload, Env: env})
			w.mu.Unlock()
			select {
			case w.more <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		ps.Close()
		<-done
	})
	return w
}

// waitFor returns the first message on eventType's channel for container
// that satisfies match, failing the test after timeout.
func (w *watcher) waitFor(t testing.TB, eventType, container string, match func(map[string]any) bool, timeout time.Duration) message {
	t.Helper()
	deadline := time.After(timeout)
	seen := 0
	for {
		w.mu.Lock()
		msgs := w.msgs[seen:]
		seen = len(w.msgs)
		w.mu.Unlock()
		for _, m := range msgs {
			if m.Channel != protocol.Channel(eventType) || m.data()["container"] != container {
				continue
			}
			if match == nil || match(m.data()) {
				return m
			}
		}
		select {
		case <-w.more:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			w.mu.Lock()
			var all []string
			for _, m := range w.msgs {
				all = append(all, m.Channel+" "+m.Raw)
			}
			w.mu.Unlock()
			t.Fatalf("no %s for %s within %s; seen:\n%s", eventType, container, timeout, strings.Join(all, "\n"))
		}
	}
}

// count returns how many messages on eventType's channel concern container.
func (w *watcher) count(eventType, container string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, m := range w.msgs {
		if m.Channel == protocol.Channel(eventType) && m.data()["container"] == container {
			n++
		}
	}
	return n
}

func statusIs(status string) func(map[string]any) bool {
	return func(d map[string]any) bool {
		r, _ := d["result"].(map[string]any)
		return r["status"] == status
	}
}
