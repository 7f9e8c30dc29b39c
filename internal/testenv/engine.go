package testenv

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
)

// Timeouts of a private engine: dockerd starts its own containerd and
// loads its (empty) state; a stop waits for its containers and containerd.
const (
	engineStartTimeout = 90 * time.Second
	engineStopTimeout  = 45 * time.Second
)

// Engine is a private Docker engine started for one test: its own dockerd
// with its own data root, exec root (where its own containerd lives),
// pidfile and unix socket, no bridge and no iptables rules, so that it
// shares nothing with the engine on the default socket and several of them
// run side by side on one machine, as the Docker hosts of a fleet.
type Engine struct {
	// Host is the engine's address for DOCKER_HOST or a docker_host
	// setting: unix://<dir>/docker.sock.
	Host string
	// Client talks to this engine.
	Client *client.Client

	dir  string
	bin  string
	args []string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// StartEngine starts a private dockerd and returns it once it answers. When
// the test ends every container on it is removed, dockerd is stopped (its
// containerd with it) and its directories are unmounted and deleted. The
// test fails, rather than skips, when dockerd is missing or does not start:
// a fleet's tests need several engines, and CI must run them.
func StartEngine(t testing.TB) *Engine {
	t.Helper()
	bin, err := exec.LookPath("dockerd")
	if err != nil {
		t.Fatalf("testenv: dockerd is not installed (%v); the multi-engine tests start their own engines", err)
	}
	// A short path: the socket, and containerd's under the exec root,
	// must fit a unix socket address (108 bytes).
	dir, err := os.MkdirTemp("", "hsengine-")
	if err != nil {
		t.Fatal(err)
	}
	e := &Engine{dir: dir, Host: "unix://" + filepath.Join(dir, "docker.sock"), log: filepath.Join(dir, "dockerd.log")}
	e.bin = bin
	e.args = []string{
		"--data-root", filepath.Join(dir, "data"),
		"--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "docker.pid"),
		"-H", e.Host,
		"--bridge=none", "--iptables=false", "--ip-masq=false",
		// Not the shared engine's: nothing of this one is found by or
		// finds the other.
		"--containerd-namespace", "hsengine", "--containerd-plugins-namespace", "hsengine-plugins",
	}
	e.Client, err = client.NewClientWithOpts(client.WithHost(e.Host), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatalf("testenv: client for %s: %v", e.Host, err)
	}
	if err := e.launch(); err != nil {
		t.Fatalf("testenv: start dockerd: %v", err)
	}
	t.Cleanup(func() { e.stop(t) })
	e.waitUp(t)
	return e
}

// launch starts dockerd on the engine's directories; its output is
// appended to the engine's log, which a restart keeps.
func (e *Engine) launch() error {
	logFile, err := os.OpenFile(e.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd := exec.Command(e.bin, e.args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// A test binary that dies takes its engines with it (SIGTERM: dockerd
	// stops its containerd on the way out).
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	e.cmd, e.done = cmd, done
	return nil
}

// waitUp waits until dockerd answers a ping.
func (e *Engine) waitUp(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(engineStartTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := e.Client.Ping(ctx)
		cancel()
		if err == nil {
			return
		}
		select {
		case <-e.done:
			t.Fatalf("testenv: dockerd exited at start-up:\n%s", e.tail())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("testenv: dockerd did not answer within %s: %v\n%s", engineStartTimeout, err, e.tail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Restart stops this engine's dockerd with sig — SIGTERM, as a service
// manager's restart sends, or SIGKILL, a crash — waits for it to exit and
// starts it again on the same data root, exec root, pidfile and socket,
// returning once it answers. Its containers outlive the restart, stopped
// (there is no live restore). Only this engine's process is signalled:
// never the shared engine. It returns when dockerd exited (down) and when
// it answered again (up).
func (e *Engine) Restart(t testing.TB, sig syscall.Signal) (down, up time.Time) {
	t.Helper()
	if err := e.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("testenv: signal dockerd %s: %v", e.Host, err)
	}
	select {
	case <-e.done:
	case <-time.After(engineStopTimeout):
		t.Fatalf("testenv: dockerd %s did not exit within %s of %v\n%s", e.Host, engineStopTimeout, sig, e.tail())
	}
	down = time.Now()
	// After a SIGKILL, whatever dockerd left behind under its exec root
	// is found by the next one, as after a crash of a real engine.
	if err := e.launch(); err != nil {
		t.Fatalf("testenv: start dockerd %s again: %v", e.Host, err)
	}
	e.waitUp(t)
	return down, time.Now()
}

// StartEngines starts n private engines at once.
func StartEngines(t testing.TB, n int) []*Engine {
	t.Helper()
	engines := make([]*Engine, n)
	var wg sync.WaitGroup
	errs := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// t.Fatal must not be called off the test's goroutine:
			// a sub-recorder catches it.
			r := &recorder{TB: t}
			func() {
				defer func() { recover() }()
				engines[i] = StartEngine(r)
			}()
			errs[i] = r.msg
		}()
	}
	wg.Wait()
	for i, msg := range errs {
		if msg != "" || engines[i] == nil {
			t.Fatalf("engine %d: %s", i, msg)
		}
	}
	return engines
}

// recorder turns a Fatalf on a helper goroutine into a recorded message
// and a panic the goroutine recovers from; Cleanup still registers on the
// test.
type recorder struct {
	testing.TB
	msg string
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	panic(r)
}

func (r *recorder) Fatal(args ...any) {
	r.msg = fmt.Sprint(args...)
	panic(r)
}

// stop removes the engine's containers, stops dockerd and deletes its
// directories. Only this engine's process group is signalled: never the
// shared engine.
func (e *Engine) stop(t testing.TB) {
	ctx, cancel := context.WithTimeout(context.Background(), engineStopTimeout)
	defer cancel()
	if list, err := e.Client.ContainerList(ctx, container.ListOptions{All: true}); err == nil {
		for _, c := range list {
			e.Client.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
		}
	}
	e.Client.Close()
	e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.done:
	case <-time.After(engineStopTimeout):
		t.Errorf("testenv: dockerd %s did not stop within %s; killed\n%s", e.Host, engineStopTimeout, e.tail())
		syscall.Kill(-e.cmd.Process.Pid, syscall.SIGKILL)
		<-e.done
	}
	if t.Failed() {
		t.Logf("dockerd %s log:\n%s", e.Host, e.tail())
	}
	unmountUnder(e.dir)
	if err := os.RemoveAll(e.dir); err != nil {
		t.Errorf("testenv: remove the engine's directory: %v", err)
	}
}

// unmountUnder detaches whatever is still mounted below dir (an overlay or
// the exec root's namespaces of a dockerd that was killed), deepest first.
func unmountUnder(dir string) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return
	}
	defer f.Close()
	var points []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && strings.HasPrefix(fields[4], dir+"/") {
			points = append(points, fields[4])
		}
	}
	slices.SortFunc(points, func(a, b string) int { return len(b) - len(a) })
	for _, p := range points {
		syscall.Unmount(p, syscall.MNT_DETACH)
	}
}

// tail is the end of dockerd's log, for a failure message.
func (e *Engine) tail() string {
	raw, err := os.ReadFile(e.log)
	if err != nil {
		return err.Error()
	}
	if len(raw) > 4000 {
		raw = raw[len(raw)-4000:]
	}
	return string(raw)
}

// Image builds the sickapp test image into this engine (it has none of the
// shared engine's images) and returns its reference.
func (e *Engine) Image(t testing.TB) string {
	t.Helper()
	ref, err := ensureTestImage(e.Client)
	if err != nil {
		t.Fatalf("testenv: test image on %s: %v", e.Host, err)
	}
	return ref
}
