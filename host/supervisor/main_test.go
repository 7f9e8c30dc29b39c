package supervisor

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/internal/testplugins/scripted"
	"github.com/hemostat/hemostat/sdk"
)

// The test binary doubles as hemostatd: run with DefaultBuiltinArgs it
// serves a built-in scripted plugin, which is how the built-in re-exec path
// is tested; run with orphanHostArg it is a host that gets SIGKILLed.
const orphanHostArg = "orphan-host"

// binDir holds the scripted plugin binaries, built once per test binary.
var (
	// copyDirs remembers each test's directory for copyBinary.
	copyDirs  sync.Map
	binDir    string
	buildOnce sync.Once
	buildErr  error
)

func TestMain(m *testing.M) {
	if len(os.Args) == 4 && os.Args[1] == "plugin" {
		scripted.Serve(os.Args[2], os.Args[3])
		os.Exit(0)
	}
	if len(os.Args) == 3 && os.Args[1] == orphanHostArg {
		runOrphanHost(os.Args[2])
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "supervisor-plugins-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// pluginBinary returns the path of a scripted plugin binary: analyzer,
// monitor, responder or notifier.
func pluginBinary(t testing.TB, name string) string {
	t.Helper()
	buildOnce.Do(func() {
		cmd := exec.Command("go", "build", "-o", binDir+string(filepath.Separator),
			"github.com/hemostat/hemostat/internal/testplugins/...")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build test plugins: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(binDir, name)
}

// binaryFor maps a role onto its scripted binary.
func binaryFor(t testing.TB, role string) string {
	names := map[string]string{
		sdk.RoleMonitor: "monitor", sdk.RoleAnalyzer: "analyzer",
		sdk.RoleResponder: "responder", sdk.RoleAlert: "notifier",
	}
	return pluginBinary(t, names[role])
}

// self is the test binary, standing in for hemostatd.
func self(t testing.TB) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

// testOptions restart fast so that the tests stay short.
func testOptions(t testing.TB, host sdk.Host) Options {
	return Options{
		Logger:         testLogger(t),
		Self:           self(t),
		Host:           host,
		RestartInitial: 50 * time.Millisecond,
		RestartMax:     400 * time.Millisecond,
		PingInterval:   100 * time.Millisecond,
	}
}

// newSupervisor returns a supervisor that is stopped when the test ends.
func newSupervisor(t testing.TB, opts Options) *Supervisor {
	s := New(opts)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.Stop(ctx)
	})
	return s
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// testLogger logs through t until the test ends; go-plugin's goroutines
// may log a line after that, which testing would reject.
func testLogger(t testing.TB) hclog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(w.close)
	return hclog.New(&hclog.LoggerOptions{Name: "test", Level: hclog.Info, Output: w})
}

type testWriter struct {
	mu     sync.Mutex
	t      testing.TB
	closed bool
}

func (w *testWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.t.Log(strings.TrimRight(string(b), "\n"))
	}
	return len(b), nil
}

func (w *testWriter) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
}

// waitFor polls cond until it holds, failing the test after a generous
// limit: the machine may be loaded, and speed is not what is tested.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// processGone reports whether pid no longer runs; a zombie awaiting its
// reaper counts as gone.
func processGone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	_, rest, _ := bytes.Cut(stat, []byte(") "))
	return len(rest) > 0 && rest[0] == 'Z'
}

// childPIDs lists the live processes whose parent is this test process.
func childPIDs(t testing.TB) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces and parens.
		i := bytes.LastIndexByte(stat, ')')
		fields := strings.Fields(string(stat[i+1:]))
		if len(fields) < 2 || fields[0] == "Z" {
			continue
		}
		if ppid, _ := strconv.Atoi(fields[1]); ppid == os.Getpid() {
			pids = append(pids, pid)
		}
	}
	return pids
}

// runOrphanHost is the test binary as a host: it starts an analyzer from
// path, prints its pid and waits to be killed.
func runOrphanHost(path string) {
	s := New(Options{Logger: hclog.NewNullLogger(), Host: sdk.NewMemoryHost()})
	p, err := s.Start(context.Background(), Spec{Role: sdk.RoleAnalyzer, Name: "orphan", Path: path})
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println(p.Status().PID)
	io.Copy(io.Discard, os.Stdin) // until the test kills this process
}

// readLine reads one line from r or fails the test.
func readLine(t testing.TB, r io.Reader) string {
	t.Helper()
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatalf("read: %v (got %q)", err, line)
	}
	return strings.TrimSpace(line)
}
