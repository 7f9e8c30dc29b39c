package supervisor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hemostat/hemostat/sdk"
	"github.com/prometheus/client_golang/prometheus"
)

// metricValue reads one series of the supervisor's metrics from reg.
func metricValue(t testing.TB, reg *prometheus.Registry, name, role, pluginName string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["role"] != role || labels["name"] != pluginName {
				continue
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no series %s{role=%q,name=%q}", name, role, pluginName)
	return 0
}

// runningAgain waits until p runs in another process than oldPID.
func runningAgain(t testing.TB, p *Plugin, oldPID int) Status {
	t.Helper()
	var st Status
	waitFor(t, "the plugin to run again", func() bool {
		st = p.Status()
		return st.State == StateRunning && st.PID != 0 && st.PID != oldPID
	})
	return st
}

func analyze(ctx context.Context, p *Plugin) (sdk.Decision, error) {
	return p.Analyzer().Analyze(ctx, sdk.AnalyzeRequest{Alert: sdk.Alert{Container: "api", Issues: []string{"High CPU: 92.5%"}}})
}

func TestRestartAfterKill(t *testing.T) {
	tests := []struct {
		name    string
		builtin bool
	}{
		{name: "executable"},
		{name: "built-in", builtin: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			host := sdk.NewMemoryHost()
			reg := prometheus.NewRegistry()
			opts := testOptions(t, host)
			opts.Registerer = reg
			s := newSupervisor(t, opts)
			spec := Spec{Role: sdk.RoleAnalyzer, Name: "victim", Config: json.RawMessage(`{"verdict": "escalate"}`)}
			if !tt.builtin {
				spec.Path = binaryFor(t, sdk.RoleAnalyzer)
			}
			// The plugin's sockets go below TMPDIR, which it inherits.
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp)
			p, err := s.Start(ctx, spec)
			if err != nil {
				t.Fatal(err)
			}
			if up := metricValue(t, reg, "hemostat_plugin_up", sdk.RoleAnalyzer, "victim"); up != 1 {
				t.Fatalf("hemostat_plugin_up = %v before the kill", up)
			}
			// Settings sent later through the adapter survive the restart.
			if err := p.Analyzer().Configure(ctx, json.RawMessage(`{"verdict": "false_alarm"}`), nil); err != nil {
				t.Fatal(err)
			}
			old := p.Status().PID
			if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			// Calls right after the kill reach a dead process or a plugin
			// being restarted; either way they say the plugin is unavailable.
			if _, err := analyze(ctx, p); !errors.Is(err, ErrUnavailable) {
				t.Fatalf("call after SIGKILL: got %v, want ErrUnavailable", err)
			}
			st := runningAgain(t, p, old)
			if st.Restarts != 1 || !strings.Contains(st.LastError, "exited") && !strings.Contains(st.LastError, "ping") {
				t.Fatalf("Status after restart: %+v", st)
			}
			d, err := analyze(ctx, p)
			if err != nil {
				t.Fatalf("call after restart: %v", err)
			}
			if want := fmt.Sprintf("api: pid %d call 1", st.PID); d.Reason != want || d.Verdict != sdk.VerdictFalseAlarm {
				t.Fatalf("call after restart: got %+v, want reason %q and the false_alarm verdict configured before the kill", d, want)
			}
			calls := callsFrom(t, host)
			if calls[len(calls)-1] != st.PID {
				t.Fatalf("the restarted plugin did not reach the host (calls from %v)", calls)
			}
			if n := metricValue(t, reg, "hemostat_plugin_restarts_total", sdk.RoleAnalyzer, "victim"); n != 1 {
				t.Fatalf("hemostat_plugin_restarts_total = %v, want 1", n)
			}
			if up := metricValue(t, reg, "hemostat_plugin_up", sdk.RoleAnalyzer, "victim"); up != 1 {
				t.Fatalf("hemostat_plugin_up = %v after the restart", up)
			}
			// The killed process's socket directory went with it: only the
			// running one's is left (beside the host's own socket for it),
			// and nothing once it is stopped.
			var dirs, hostSockets []string
			for _, name := range tempEntries(t, tmp) {
				if strings.HasPrefix(name, "hemostat-plugin-") {
					dirs = append(dirs, name)
				} else {
					hostSockets = append(hostSockets, name)
				}
			}
			if len(dirs) != 1 {
				t.Errorf("plugin socket directories after the restart: %v, want the running plugin's alone", dirs)
			}
			// hemostatd's own end of the plugin's calls back to the host
			// (go-plugin's broker): the killed plugin's was closed with it.
			if len(hostSockets) > 1 {
				t.Errorf("host sockets after the restart: %v, want the running plugin's alone", hostSockets)
			}
			stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			s.Stop(stopCtx)
			if left := tempEntries(t, tmp); len(left) != 0 {
				t.Errorf("temporary directory after the stop holds %v, want nothing", left)
			}
		})
	}
}

// tempEntries lists a directory's entries by name.
func tempEntries(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestRestartAfterCrashInCall(t *testing.T) {
	ctx := testContext(t)
	s := newSupervisor(t, testOptions(t, sdk.NewMemoryHost()))
	p, err := s.Start(ctx, Spec{Role: sdk.RoleAnalyzer, Name: "flaky", Path: binaryFor(t, sdk.RoleAnalyzer), Config: json.RawMessage(`{"crash_on_call": 2}`)})
	if err != nil {
		t.Fatal(err)
	}
	first := p.Status().PID
	if _, err := analyze(ctx, p); err != nil {
		t.Fatalf("call 1: %v", err)
	}
	_, err = analyze(ctx, p)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("call 2 (the plugin exits): got %v, want ErrUnavailable", err)
	}
	st := runningAgain(t, p, first)
	d, err := analyze(ctx, p)
	if err != nil || d.Reason != fmt.Sprintf("api: pid %d call 1", st.PID) {
		t.Fatalf("call after restart: %+v, %v", d, err)
	}
	if !processGone(first) {
		t.Fatalf("crashed pid %d still around", first)
	}
}

func TestCallsFailFastWhileRestarting(t *testing.T) {
	ctx := testContext(t)
	opts := testOptions(t, sdk.NewMemoryHost())
	// A long first backoff holds the plugin in "restarting".
	opts.RestartInitial, opts.RestartMax = time.Hour, time.Hour
	s := newSupervisor(t, opts)
	p, err := s.Start(ctx, Spec{Role: sdk.RoleResponder, Name: "r", Path: binaryFor(t, sdk.RoleResponder)})
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(p.Status().PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the restart to begin", func() bool { return p.Status().State == StateRestarting })
	_, err = p.Responder().Remediate(ctx, sdk.RemediateRequest{Container: "api", Action: sdk.ActionRestart})
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "restarting") {
		t.Fatalf("call while restarting: got %v, want ErrUnavailable saying restarting", err)
	}
	if st := p.Status(); st.PID != 0 || st.LastError == "" {
		t.Fatalf("Status while restarting: %+v", st)
	}
}

func TestHangingCallHitsDeadline(t *testing.T) {
	ctx := testContext(t)
	s := newSupervisor(t, testOptions(t, sdk.NewMemoryHost()))
	p, err := s.Start(ctx, Spec{
		Role: sdk.RoleAnalyzer, Name: "slow", Path: binaryFor(t, sdk.RoleAnalyzer),
		Config: json.RawMessage(`{"hang_on_call": 1}`), Timeout: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	before := p.Status()
	_, err = analyze(ctx, p)
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrUnavailable) {
		t.Fatalf("hanging call: got %v, want context.DeadlineExceeded", err)
	}
	// The process still answers pings, so it is not restarted for one
	// slow call.
	time.Sleep(3 * s.opts.PingInterval)
	if st := p.Status(); st.PID != before.PID || st.Restarts != 0 || st.State != StateRunning {
		t.Fatalf("Status after a slow call: %+v, before %+v", st, before)
	}
}

func TestFrozenPluginRestarted(t *testing.T) {
	ctx := testContext(t)
	reg := prometheus.NewRegistry()
	opts := testOptions(t, sdk.NewMemoryHost())
	opts.Registerer = reg
	s := newSupervisor(t, opts)
	p, err := s.Start(ctx, Spec{Role: sdk.RoleAlert, Name: "frozen", Path: binaryFor(t, sdk.RoleAlert), Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	old := p.Status().PID
	// SIGSTOP freezes the whole process, the health service included,
	// as a deadlocked plugin would be.
	if err := syscall.Kill(old, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	st := runningAgain(t, p, old)
	if st.Restarts != 1 || !strings.Contains(st.LastError, "did not answer a ping within 1s") {
		t.Fatalf("Status after the hang: %+v", st)
	}
	waitFor(t, "the frozen process to be killed", func() bool { return processGone(old) })
	if err := p.Notifier().Notify(ctx, sdk.Notification{Container: "api"}); err != nil {
		t.Fatalf("Notify after restart: %v", err)
	}
	if n := metricValue(t, reg, "hemostat_plugin_restarts_total", sdk.RoleAlert, "frozen"); n != 1 {
		t.Fatalf("hemostat_plugin_restarts_total = %v, want 1", n)
	}
}

func TestRejectedOnRestartFails(t *testing.T) {
	ctx := testContext(t)
	s := newSupervisor(t, testOptions(t, sdk.NewMemoryHost()))
	dir := t.TempDir()
	path := copyBinary(t, pluginBinary(t, "analyzer"), dir, "hemostat-analyzer-swapped")
	sum, err := FileSHA256(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Start(ctx, Spec{Role: sdk.RoleAnalyzer, Name: "swapped", Path: path, SHA256: sum})
	if err != nil {
		t.Fatal(err)
	}
	// Someone replaces the pinned binary; the next start must refuse it
	// for good instead of retrying.
	copyBinary(t, pluginBinary(t, "responder"), dir, "hemostat-analyzer-swapped")
	old := p.Status().PID
	if err := syscall.Kill(old, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the plugin to fail", func() bool { return p.Status().State == StateFailed })
	st := p.Status()
	if st.Restarts != 1 || !strings.Contains(st.LastError, "config pins "+sum) {
		t.Fatalf("Status: %+v", st)
	}
	if _, err := analyze(ctx, p); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "failed") {
		t.Fatalf("call to a failed plugin: got %v", err)
	}
}

// copyBinary copies an executable into dir under name, replacing an
// earlier copy by a new file so that a running copy is unaffected, and
// returns its path.
func copyBinary(t testing.TB, src, dir, name string) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, name)
	tmp := dst + ".new"
	if err := os.WriteFile(tmp, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestSocketDirFallsBack: under a temporary directory whose path would
// make a socket's too long, the plugin keeps go-plugin's default rather
// than fail to listen.
func TestSocketDirFallsBack(t *testing.T) {
	long := filepath.Join(t.TempDir(), strings.Repeat("d", 80))
	if err := os.MkdirAll(long, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", long)
	dir, env := newSocketDir([]string{"PATH=/bin"})
	if dir != "" || len(env) != 1 {
		t.Errorf("newSocketDir under a %d-byte TMPDIR = %q, %v; want the default", len(long), dir, env)
	}
	if left := tempEntries(t, long); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}

	short := t.TempDir()
	t.Setenv("TMPDIR", short)
	dir, env = newSocketDir(nil)
	if dir == "" || len(env) != 1 || env[0] != "PLUGIN_UNIX_SOCKET_DIR="+string(dir) {
		t.Fatalf("newSocketDir under %s = %q, %v", short, dir, env)
	}
	dir.remove()
	if left := tempEntries(t, short); len(left) != 0 {
		t.Errorf("left behind after remove: %v", left)
	}
}

// TestStaleSocketDirsRemoved: the socket directories a killed hemostatd
// left behind — its PID gone — are removed when the next supervisor
// starts; those of a running hemostatd, this one's included, and
// anything else in the temporary directory are left.
func TestStaleSocketDirsRemoved(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	mk := func(name string) {
		if err := os.MkdirAll(filepath.Join(tmp, name), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tmp, name, "plugin123"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	stale := fmt.Sprintf("hemostat-plugin-%d-111", gone.Process.Pid)
	live := fmt.Sprintf("hemostat-plugin-%d-222", os.Getppid())
	own := fmt.Sprintf("hemostat-plugin-%d-333", os.Getpid())
	for _, name := range []string{stale, live, own, "hemostat-plugin-x-444", "other-999"} {
		mk(name)
	}
	newSupervisor(t, testOptions(t, sdk.NewMemoryHost()))
	got := tempEntries(t, tmp)
	want := []string{"hemostat-plugin-x-444", live, own, "other-999"}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("temporary directory after a supervisor started: %v, want %v (%s removed)", got, want, stale)
	}
}
