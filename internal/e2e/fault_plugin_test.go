package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/daemontest"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/hemostat/hemostat/sdk"
)

// faultPluginConfig is baseConfig with a 2 s timeout on every plugin, so
// that a frozen plugin's calls end soon and its ping fails soon, and no
// storm summaries.
const faultPluginConfig = `
log_level  = "info"
plugin_dir = "{{plugins}}"
redis { address = "{{redis}}" }
http  { address = "{{http}}" }
monitor {
  sustain = "0s"
  grace   = "0s"
  realert = "1s"
  plugin "script" { timeout = "2s" }
}
analyzer {
  plugin "threshold" { timeout = "2s" }
}
responder {
  backoff {
    initial = "2s"
    max = "5m"
  }
  plugin "record" { timeout = "2s" }
}
alert {
  dedupe_window = "0s"
  # Every notification on its own: the test looks for each container's.
  storm { containers = 0 }
  plugin "record" { timeout = "2s" }
}
`

// pluginFault is one way a plugin process misbehaves.
type pluginFault struct {
	name string
	// restarts says whether hemostatd must replace the process.
	restarts bool
	do       func(t *testing.T, pid int)
}

var pluginFaults = []pluginFault{
	{name: "writing 256 KiB of garbage to its stdout", do: garbleStdout},
	{name: "SIGKILLed", restarts: true, do: func(t *testing.T, pid int) { signal(t, pid, syscall.SIGKILL) }},
	{name: "SIGSTOPped past its deadline", restarts: true, do: func(t *testing.T, pid int) { signal(t, pid, syscall.SIGSTOP) }},
}

// TestFaultPlugin: each role's plugin process is sent garbage on its
// stdout, SIGKILLed and SIGSTOPped, one after the other. hemostatd stays
// up; a killed or frozen plugin is replaced; the work that met the fault
// is handled or reported once the plugin is back; the next alert is
// handled as before.
func TestFaultPlugin(t *testing.T) {
	for _, role := range []struct{ role, name string }{
		{"monitor", "script"}, {"analyzer", "threshold"}, {"responder", "record"}, {"alert", "record"},
	} {
		t.Run(role.role, func(t *testing.T) {
			srv := testenv.StartRedis(t)
			d := startDaemon(t, srv, faultPluginConfig)
			w := daemontest.Watch(t, d.rdb)
			d.waitSubscribed(t, protocol.TypeHealthAlert, protocol.TypeRemediationNeeded, protocol.TypeRemediationComplete)
			handled(t, d, w, role.role, "warm-up")

			for i, f := range pluginFaults {
				t.Run(strings.Fields(f.name)[0], func(t *testing.T) { faultOnePlugin(t, d, w, role.role, role.name, i, f) })
			}
		})
	}
}

// faultOnePlugin applies f to the plugin and checks what came of it.
func faultOnePlugin(t *testing.T, d *daemon, w *daemontest.Watcher, role, name string, i int, f pluginFault) {
	row := daemontest.Fault(t, fmt.Sprintf("%s plugin %s", role, f.name))
	before := findPlugin(t, d, role, name)
	start := time.Now()
	f.do(t, before.PID)
	// Work that meets the fault: sent at once, while the
	// plugin is dead, frozen or being written to.
	during := fmt.Sprintf("during-%d", i)
	script(t, d.rdb, exited(during))

	if f.restarts {
		after := waitReplaced(t, d, role, name, before)
		row.Figure("replaced in %s (restarts %d → %d)", time.Since(start).Round(100*time.Millisecond), before.Restarts, after.Restarts)
	}
	fate := handled(t, d, w, role, during)
	row.Figure("the %s sent at the fault: %s", faultWork(role), fate)
	next := fmt.Sprintf("next-%d", i)
	nextStart := time.Now()
	handled(t, d, w, role, next)
	row.Figure("the next one handled in %s", time.Since(nextStart).Round(time.Millisecond))

	d.Alive(t)
	now := findPlugin(t, d, role, name)
	if !f.restarts && (now.PID != before.PID || now.Restarts != before.Restarts) {
		t.Errorf("garbage on stdout made hemostatd replace the plugin: %+v → %+v", before, now)
	}
	if f.restarts && now.PID == before.PID {
		t.Errorf("the plugin was not replaced: %+v", now)
	}
	if now.State != "running" {
		t.Errorf("plugin state %q after the fault, want running", now.State)
	}
	outcome := "ignored: the same process goes on"
	if f.restarts {
		outcome = "replaced by a new process; hemostatd up"
	}
	row.Outcome("%s; the work that met the fault handled or reported, the next alert handled", outcome)
}

// exited is a crash the scripted monitor reports for container.
func exited(container string) sdk.Sample {
	return sdk.Sample{Container: container, Status: "exited", Event: sdk.EventDie, ExitCode: 1}
}

// faultWork names what a role's plugin was asked for.
func faultWork(role string) string {
	switch role {
	case "monitor":
		return "crash"
	case "analyzer":
		return "alert"
	case "responder":
		return "remediation"
	default:
		return "notification"
	}
}

// handled scripts or awaits the handling of container's crash as far as
// role's plugin takes part in it, and says what came of it.
func handled(t *testing.T, d *daemon, w *daemontest.Watcher, role, container string) string {
	t.Helper()
	if !strings.HasPrefix(container, "during-") {
		script(t, d.rdb, exited(container))
	}
	switch role {
	case "monitor":
		m := w.WaitFor(t, protocol.TypeHealthAlert, container, nil, faultWait)
		return "alerted (" + strings.Join(m.Issues(), ", ") + ")"
	case "analyzer":
		m := w.WaitAbout(t, container, decided, faultWait)
		return "decided: " + m.Type()
	case "responder":
		// An action the fault cut off is reported failed (it may have
		// begun; the safety gate counts it); one that never reached the
		// plugin is deferred and done once the plugin is back.
		final := func(m daemontest.Message) bool { return m.Str("result", "status") != "deferred" }
		if !strings.HasPrefix(container, "during-") {
			final = daemontest.StatusIs("success")
		}
		w.WaitFor(t, protocol.TypeRemediationComplete, container, final, faultWait)
		var statuses []string
		for _, m := range w.Of(container) {
			if m.Type() == protocol.TypeRemediationComplete {
				statuses = append(statuses, m.Str("result", "status"))
			}
		}
		return "reported " + strings.Join(statuses, ", ")
	default:
		start := time.Now()
		waitNotified(t, d, container)
		return fmt.Sprintf("delivered %s later", time.Since(start).Round(100*time.Millisecond))
	}
}

// waitNotified waits until the recording alert plugin has a notification
// of container's remediation.
func waitNotified(t *testing.T, d *daemon, container string) {
	t.Helper()
	deadline := time.Now().Add(faultWait)
	for {
		raw, _ := d.rdb.Get(context.Background(), protocol.StateKey("e2e-notifications")).Bytes()
		var ns []sdk.Notification
		err := json.Unmarshal(raw, &ns)
		for _, n := range ns {
			if n.Container == container && n.Type == protocol.TypeRemediationComplete {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no notification of %s reached the alert plugin (decode: %v); it recorded: %s", container, err, raw)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitReplaced waits until hemostatd runs a new process for the plugin.
func waitReplaced(t *testing.T, d *daemon, role, name string, old daemontest.PluginStatus) daemontest.PluginStatus {
	t.Helper()
	deadline := time.Now().Add(faultWait)
	for {
		p := findPlugin(t, d, role, name)
		if p.PID != 0 && p.PID != old.PID && p.State == "running" && p.Restarts > old.Restarts {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("the %s plugin was not replaced: %+v", role, p)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func signal(t *testing.T, pid int, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(pid, sig); err != nil {
		t.Fatalf("%v to plugin %d: %v", sig, pid, err)
	}
	if sig == syscall.SIGSTOP {
		// Should hemostatd fail to end it, the frozen process must not
		// outlive the test.
		t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	}
}

// garbleStdout writes garbage into the plugin's stdout, the pipe
// hemostatd read its handshake from, as a child process a plugin starts
// with its stdout would: binary noise, a line that looks like a handshake,
// long lines. (Not longer than 64 KiB: go-plugin reads the pipe with a
// bufio.Scanner, which stops at a longer line, and the writer then
// blocks — the plugin's own trouble, which its ping catches if it hangs.)
func garbleStdout(t *testing.T, pid int) {
	t.Helper()
	f, err := os.OpenFile(fmt.Sprintf("/proc/%d/fd/1", pid), os.O_WRONLY, 0)
	if err != nil {
		t.Fatalf("open the plugin's stdout: %v", err)
	}
	defer f.Close()
	// A pipe nobody drains must fail the test, not hang it.
	_ = f.SetWriteDeadline(time.Now().Add(30 * time.Second))
	noise := make([]byte, 4096)
	for i := range noise {
		noise[i] = byte(i*131 + 7)
	}
	chunks := [][]byte{[]byte("1|1|tcp|127.0.0.1:1|grpc\n"), []byte("not json {\"\n"), noise, []byte(strings.Repeat("x", 16<<10) + "\n")}
	written := 0
	for written < 256<<10 {
		for _, c := range chunks {
			n, err := f.Write(c)
			if err != nil {
				t.Fatalf("write to the plugin's stdout: %v", err)
			}
			written += n
		}
	}
}
