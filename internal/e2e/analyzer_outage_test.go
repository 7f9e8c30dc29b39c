package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/daemontest"
	"github.com/hemostat/hemostat/internal/testenv"
)

// TestAnalyzerOutageRetriesAlert: alerts that come while the threshold
// analyzer — the chain's only analyzer that decides them — is killed over
// and over, or frozen past its deadline, are judged once it is back,
// instead of being escalated for want of an analyzer.
func TestAnalyzerOutageRetriesAlert(t *testing.T) {
	for _, tc := range []struct {
		name string
		// outage takes the analyzer away and calls alert while it is.
		outage func(t *testing.T, d *daemon, alert func())
	}{
		{"killed", func(t *testing.T, d *daemon, alert func()) {
			// Every process the supervisor brings back is killed too,
			// for three seconds: the alert meets no analyzer at all.
			end := time.Now().Add(3 * time.Second)
			killed := map[int]bool{}
			for time.Now().Before(end) {
				p := findPlugin(t, d, "analyzer", "threshold")
				if p.PID > 0 && !killed[p.PID] {
					syscall.Kill(p.PID, syscall.SIGKILL)
					killed[p.PID] = true
				}
				if alert != nil && len(killed) > 0 {
					alert()
					alert = nil
				}
				time.Sleep(20 * time.Millisecond)
			}
		}},
		{"frozen past its deadline", func(t *testing.T, d *daemon, alert func()) {
			p := findPlugin(t, d, "analyzer", "threshold")
			if err := syscall.Kill(p.PID, syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			// The supervisor's ping finds it hung and replaces it; should
			// it not, the process is let go on when the test ends.
			t.Cleanup(func() { syscall.Kill(p.PID, syscall.SIGCONT) })
			alert()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := testenv.StartRedis(t)
			cfg := strings.Replace(baseConfig, `plugin "threshold" {}`, `plugin "threshold" { timeout = "2s" }`, 1)
			d := startDaemon(t, srv, cfg)
			w := daemontest.Watch(t, d.rdb)
			waitSubscribers(t, d, protocol.TypeHealthAlert, 1)

			const name = "crashed-meanwhile"
			tc.outage(t, d, func() {
				publishAlert(t, d, protocol.HealthAlert{Container: name, Issues: []string{protocol.IssueExited(3)}})
			})

			need := w.WaitFor(t, protocol.TypeRemediationNeeded, name, nil, 90*time.Second)
			if need.Str("action") != "restart" {
				t.Errorf("remediation_needed = %s, want a restart", need.Raw)
			}
			if n := w.Count(protocol.TypeEscalation, name); n != 0 {
				t.Errorf("%d escalations for an alert the analyzer could judge once back:\n%s", n, w.Dump(name))
			}
			if !strings.Contains(d.Logs(), "judging it again") {
				t.Errorf("hemostatd's log does not show the alert judged again: did the outage happen?")
			}
		})
	}
}

// publishAlert publishes a health_alert as an external monitor would.
func publishAlert(t *testing.T, d *daemon, alert protocol.HealthAlert) {
	t.Helper()
	env, err := protocol.NewEnvelope("Test-Monitor", protocol.TypeHealthAlert, alert, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.rdb.Publish(context.Background(), protocol.Channel(protocol.TypeHealthAlert), raw).Err(); err != nil {
		t.Fatal(err)
	}
}
