package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/daemontest"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/hemostat/hemostat/sdk"
)

// externalAnalyzer is an analyzer that is not Go: redis-cli in a shell
// loop, as a team might write one. It restarts every container it hears of.
const externalAnalyzer = `#!/bin/sh
port="$1"
redis-cli -p "$port" --raw SUBSCRIBE hemostat:health_alert | while read -r line; do
  case "$line" in
    *'"type":"health_alert"'*)
      c=$(printf '%s' "$line" | sed -n 's/.*"container":"\([^"]*\)".*/\1/p')
      ts=$(date -u +%Y-%m-%dT%H:%M:%S.000000)
      redis-cli -p "$port" PUBLISH hemostat:remediation_needed \
        "{\"timestamp\":\"$ts\",\"agent\":\"Shell-Analyzer\",\"type\":\"remediation_needed\",\"data\":{\"container\":\"$c\",\"action\":\"restart\",\"reason\":\"shell says so\",\"confidence\":0.95,\"metrics\":{}}}" >/dev/null
      ;;
  esac
done
`

func TestExternalAnalyzerReplacesBuiltIn(t *testing.T) {
	srv := testenv.StartRedis(t)
	cfg := strings.Replace(baseConfig, "analyzer {", "analyzer {\n  enabled = false", 1)
	d := startDaemon(t, srv, cfg)
	w := daemontest.Watch(t, d.rdb)

	scriptPath := filepath.Join(t.TempDir(), "analyzer.sh")
	if err := os.WriteFile(scriptPath, []byte(externalAnalyzer), 0o755); err != nil {
		t.Fatal(err)
	}
	// hemostatd listens on health_alert too (its overview hears every
	// type): the shell analyzer is the subscriber after it.
	d.waitSubscribed(t, protocol.TypeHealthAlert)
	ch := protocol.Channel(protocol.TypeHealthAlert)
	before := d.rdb.PubSubNumSub(context.Background(), ch).Val()[ch]
	port := srv.Addr()[strings.LastIndex(srv.Addr(), ":")+1:]
	sh := exec.Command("sh", scriptPath, port)
	sh.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-sh.Process.Pid, syscall.SIGKILL)
		sh.Wait()
	})
	waitSubscribers(t, d, protocol.TypeHealthAlert, before+1)

	script(t, d.rdb, sdk.Sample{Container: "web", Status: "exited", Event: sdk.EventDie, ExitCode: 3})
	need := w.WaitFor(t, protocol.TypeRemediationNeeded, "web", nil, 20*time.Second)
	if need.Env["agent"] != "Shell-Analyzer" {
		t.Fatalf("remediation_needed came from %v, want the shell analyzer", need.Env["agent"])
	}
	done := w.WaitFor(t, protocol.TypeRemediationComplete, "web", daemontest.StatusIs("success"), 20*time.Second)
	checkEnvelope(t, done, protocol.TypeRemediationComplete)
	if n := w.Count(protocol.TypeFalseAlarm, "web"); n != 0 {
		t.Errorf("the disabled built-in analyzer still answered (%d false alarms)", n)
	}
}

func TestPluginKilledIsRestarted(t *testing.T) {
	srv := testenv.StartRedis(t)
	d := startDaemon(t, srv, baseConfig)
	w := daemontest.Watch(t, d.rdb)

	threshold := findPlugin(t, d, "analyzer", "threshold")
	if err := syscall.Kill(threshold.PID, syscall.SIGKILL); err != nil {
		t.Fatalf("kill analyzer plugin %d: %v", threshold.PID, err)
	}
	// An alert while it is down is not lost: it is judged once the plugin
	// is back (or escalated, should it stay away).
	script(t, d.rdb, sdk.Sample{Container: "mid-flow", Status: "exited", Event: sdk.EventDie, ExitCode: 1})
	first := w.WaitAbout(t, "mid-flow", decided, 20*time.Second)
	t.Logf("alert while the analyzer was down → %s", first.Channel)

	deadline := time.Now().Add(30 * time.Second)
	for {
		p := findPlugin(t, d, "analyzer", "threshold")
		if p.Restarts >= 1 && p.State == "running" && p.PID != threshold.PID {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the killed plugin was not restarted: %+v", p)
		}
		time.Sleep(50 * time.Millisecond)
	}
	script(t, d.rdb, sdk.Sample{Container: "after-kill", Status: "exited", Event: sdk.EventDie, ExitCode: 1})
	w.WaitFor(t, protocol.TypeRemediationNeeded, "after-kill", nil, 20*time.Second)
	w.WaitFor(t, protocol.TypeRemediationComplete, "after-kill", daemontest.StatusIs("success"), 20*time.Second)
	if !strings.Contains(d.Metrics(t), `hemostat_plugin_restarts_total{name="threshold",role="analyzer"} 1`) {
		t.Errorf("/metrics does not count the restart")
	}
}

// decided matches a decision or escalation: whatever comes of an alert.
func decided(m daemontest.Message) bool {
	return m.Type() != protocol.TypeHealthAlert
}

func findPlugin(t *testing.T, d *daemon, role, name string) daemontest.PluginStatus {
	t.Helper()
	for _, p := range d.Plugins(t) {
		if strings.EqualFold(p.Role, role) && p.Name == name {
			return p
		}
	}
	t.Fatalf("plugin %s/%s not in the status: %+v", role, name, d.Plugins(t))
	return daemontest.PluginStatus{}
}

func TestRedisRestartReconnects(t *testing.T) {
	srv := testenv.StartRedis(t)
	d := startDaemon(t, srv, baseConfig)

	srv.Stop(t)
	time.Sleep(500 * time.Millisecond)
	srv.Restart(t)
	w := daemontest.Watch(t, d.rdb)
	// Pub/sub keeps nothing for a subscriber that is away: wait until
	// hemostatd's roles have subscribed again (the alert role listens on
	// remediation_complete, the last channel of the flow).
	for _, typ := range []string{protocol.TypeHealthAlert, protocol.TypeRemediationNeeded, protocol.TypeRemediationComplete} {
		waitSubscribers(t, d, typ, 1)
	}
	// The script lives in Redis and was lost with it: start a new one.
	script(t, d.rdb, sdk.Sample{Container: "after-restart", Status: "exited", Event: sdk.EventDie, ExitCode: 1})
	w.WaitFor(t, protocol.TypeRemediationComplete, "after-restart", daemontest.StatusIs("success"), 40*time.Second)
	d.Alive(t)
}

func TestBadMessagesAreSkipped(t *testing.T) {
	srv := testenv.StartRedis(t)
	d := startDaemon(t, srv, baseConfig)
	w := daemontest.Watch(t, d.rdb)
	ctx := context.Background()

	huge := `{"timestamp":"2025-11-03T10:30:45.123456","agent":"x","type":"health_alert","data":{"container":"` +
		strings.Repeat("a", 10<<20) + `","issues":["x"]}}`
	bad := []string{
		`{not json`,
		`{"timestamp":"2025-11-03T10:30:45.123456","agent":"x","type":5,"data":{}}`,
		`{"timestamp":"2025-11-03T10:30:45.123456","agent":"x","type":"%s","data":"not an object"}`,
		`{"timestamp":"2025-11-03T10:30:45.123456","agent":"x","type":"no_such_type","data":{}}`,
		`{"timestamp":"2025-11-03T10:30:45.123456","agent":"x","type":"%s","data":{"container":7,"issues":"x"}}`,
		`{"timestamp":"yesterday","agent":"x","type":"%s","data":{"container":"c"}}`,
		huge,
	}
	d.waitSubscribed(t, protocol.TypeHealthAlert, protocol.TypeRemediationNeeded, protocol.TypeRemediationComplete, protocol.TypeFalseAlarm)
	sent := 0
	for _, typ := range []string{protocol.TypeHealthAlert, protocol.TypeRemediationNeeded, protocol.TypeRemediationComplete, protocol.TypeFalseAlarm} {
		for _, b := range bad {
			msg := b
			if strings.Contains(b, "%s") {
				msg = strings.ReplaceAll(b, "%s", typ)
			}
			if err := d.rdb.Publish(ctx, protocol.Channel(typ), msg).Err(); err != nil {
				t.Fatal(err)
			}
			sent++
		}
	}
	// hemostatd subscribes to health_alert, remediation_needed and (twice,
	// for the alert role) the other two; each rejected copy is counted.
	deadline := time.Now().Add(20 * time.Second)
	re := regexp.MustCompile(`(?m)^hemostat_bus_invalid_messages_total\{[^}]*\} (\d+)`)
	for {
		total := 0
		for _, m := range re.FindAllStringSubmatch(d.Metrics(t), -1) {
			n, _ := strconv.Atoi(m[1])
			total += n
		}
		if total >= sent {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("counted %d invalid messages, sent %d", total, sent)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// And the daemon is unharmed: a real alert still flows.
	script(t, d.rdb, sdk.Sample{Container: "after-junk", Status: "exited", Event: sdk.EventDie, ExitCode: 1})
	w.WaitFor(t, protocol.TypeRemediationComplete, "after-junk", daemontest.StatusIs("success"), 20*time.Second)
}

func TestSIGTERMLeavesNoPluginProcess(t *testing.T) {
	for _, tc := range []struct {
		name string
		stop func(d *daemontest.Daemon) error
	}{
		{"to hemostatd", func(d *daemontest.Daemon) error { return d.Stop() }},
		// systemd and terminals signal the whole group: the plugins must
		// still wait for hemostatd's orderly Shutdown call.
		{"to the process group", func(d *daemontest.Daemon) error { return d.StopGroup(syscall.SIGTERM) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := testenv.StartRedis(t)
			d := startDaemon(t, srv, baseConfig)
			var pids []int
			for _, p := range d.Plugins(t) {
				if p.PID > 0 {
					pids = append(pids, p.PID)
				}
			}
			if len(pids) < 5 {
				t.Fatalf("expected every plugin running, got %+v", d.Plugins(t))
			}
			if err := tc.stop(d.Daemon); err != nil {
				t.Errorf("hemostatd exited with %v after SIGTERM", err)
			}
			for _, pid := range pids {
				if alive(pid) {
					t.Errorf("plugin process %d outlived hemostatd", pid)
				}
			}
			logs := d.Logs()
			if n := strings.Count(logs, "plugin stopped"); n != len(pids) {
				t.Errorf("%d plugins stopped in order, want %d", n, len(pids))
			}
			for _, bad := range []string{"signal: terminated", "shutdown RPC failed"} {
				if strings.Contains(logs, bad) {
					t.Errorf("the shutdown was not orderly: the log says %q", bad)
				}
			}
		})
	}
}

// alive reports whether pid is a running (not zombie) process.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	fields := strings.Fields(string(b))
	return len(fields) > 2 && fields[2] != "Z"
}

// waitSubscribers waits until eventType's channel has at least n
// subscribers besides the test's own pattern subscription.
func waitSubscribers(t *testing.T, d *daemon, eventType string, n int64) {
	t.Helper()
	ch := protocol.Channel(eventType)
	deadline := time.Now().Add(30 * time.Second)
	for d.rdb.PubSubNumSub(context.Background(), ch).Val()[ch] < n {
		if time.Now().After(deadline) {
			t.Fatalf("nobody subscribed to %s", ch)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
