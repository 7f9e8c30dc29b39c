package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/testenv"
)

// TestLogInjection publishes, as anyone who can write to Redis could, a
// false_alarm whose container name carries a newline and a forged log
// entry, and terminal controls: the daemon logs it on one line, escaped.
func TestLogInjection(t *testing.T) {
	srv := testenv.StartRedis(t)
	d := startDaemon(t, srv, baseConfig)
	const forged = "2026-01-01T00:00:00.000Z [ERROR] hemostatd: FORGED LOG LINE"
	name := "x\n" + forged + "\x1b[31m\x07\r"
	env, err := json.Marshal(map[string]any{
		"timestamp": "2025-11-03T10:30:45.123456", "agent": "Forger", "type": protocol.TypeFalseAlarm,
		"data": map[string]any{"container": name, "reason": "forged\nreason", "confidence": 0.9},
	})
	if err != nil {
		t.Fatal(err)
	}
	ch := protocol.Channel(protocol.TypeFalseAlarm)
	d.waitSubscribed(t, protocol.TypeFalseAlarm)
	if err := d.rdb.Publish(context.Background(), ch, env).Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(d.Logs(), "FORGED LOG LINE") {
		if time.Now().After(deadline) {
			t.Fatalf("the false alarm was never logged:\n%s", d.Logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
	logs := d.Logs()
	for _, line := range strings.Split(logs, "\n") {
		if strings.HasPrefix(line, forged[:24]) {
			t.Errorf("forged entry in the log: %q", line)
		}
	}
	if strings.ContainsAny(logs, "\x1b\x07\r") {
		t.Errorf("raw ESC, BEL or CR in the log:\n%q", logs)
	}
	if !strings.Contains(logs, `x\n2026-01-01T00:00:00.000Z [ERROR] hemostatd: FORGED LOG LINE\x1b[31m\a\r`) {
		t.Errorf("the container name is not logged escaped:\n%s", logs)
	}
}
