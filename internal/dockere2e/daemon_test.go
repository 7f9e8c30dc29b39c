package dockere2e

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/redis/go-redis/v9"
)

// daemon is one hemostatd process with its own redis-server.
type daemon struct {
	t       testing.TB
	cmd     *exec.Cmd
	logs    *syncBuffer
	rdb     *redis.Client
	watch   *watcher
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

// scenarioPrefix returns a fresh container-name prefix of letters and
// digits: "hse2e" and eight random characters. It never starts with
// "hemostat", which the default protected globs cover.
func scenarioPrefix() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 8)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "hse2e" + string(b)
}

// startDaemon starts a redis-server and hemostatd configured by s, scoped
// to containers whose names start with prefix, with a watcher subscribed
// before hemostatd publishes anything. Both stop when the test ends.
func startDaemon(t testing.TB, prefix string, s settings) *daemon {
	t.Helper()
	bin := hemostatdBinary(t)
	srv := testenv.StartRedis(t)
	dir := t.TempDir()
	s.Redis = srv.Addr()
	s.HTTP = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	s.Plugins = filepath.Join(dir, "plugins") // empty: the built-ins only
	s.Excludes = scopeExcludes(prefix)
	cfgPath := filepath.Join(dir, "hemostat.hcl")
	if err := os.WriteFile(cfgPath, []byte(s.render(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	d := &daemon{t: t, logs: &syncBuffer{}, rdb: srv.Client(t), exited: make(chan struct{})}
	d.watch = watch(t, d.rdb)
	d.cmd = exec.Command(bin, "-config", cfgPath)
	d.cmd.Stdout, d.cmd.Stderr = d.logs, d.logs
	// hemostatd sets Pdeathsig on its plugins; this covers hemostatd
	// itself should the test binary die.
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
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
	d.waitHealthy(s.HTTP)
	return d
}

func (d *daemon) waitHealthy(httpAddr string) {
	d.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + httpAddr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-d.exited:
			d.t.Fatalf("hemostatd exited at start-up: %v\n%s", d.exitErr, d.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("hemostatd did not become healthy:\n%s", d.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
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

// alive fails the test when hemostatd has exited.
func (d *daemon) alive() {
	d.t.Helper()
	select {
	case <-d.exited:
		d.t.Fatalf("hemostatd exited: %v", d.exitErr)
	default:
	}
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
