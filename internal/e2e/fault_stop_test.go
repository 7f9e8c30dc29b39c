package e2e

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/daemontest"
	"github.com/hemostat/hemostat/internal/testenv"
)

// hangingResponder makes the responder plugin hang on the container
// "stuck" for as long as the call may last.
var hangingResponder = strings.Replace(baseConfig, `config { fail = ["doomed"] }`,
	`timeout = "5m"
    config { hang = ["stuck"] }`, 1)

// TestFaultSIGTERMMidRemediation: SIGTERM while an action hangs in the
// responder plugin. The action is reported failed, every plugin process
// exits with hemostatd, and what hemostatd left in Redis is well formed.
func TestFaultSIGTERMMidRemediation(t *testing.T) {
	row := daemontest.Fault(t, "SIGTERM to hemostatd mid-remediation")
	d, w, pids := startStuck(t)
	start := time.Now()
	err := d.Stop()
	row.Figure("exited in %s (%v)", time.Since(start).Round(100*time.Millisecond), err)
	if err == nil {
		t.Errorf("hemostatd exited cleanly after abandoning an action under way; want a non-zero exit")
	}
	done := w.WaitFor(t, protocol.TypeRemediationComplete, "stuck", nil, 10*time.Second)
	row.Figure("the action under way → %s (%s)", outcomeOf(done), done.Str("result", "error"))
	if done.Str("result", "status") != "failed" {
		t.Errorf("remediation_complete = %s, want failed", done.Raw)
	}
	orphans := waitGone(t, pids)
	keys := checkRedisConsistent(t, d.rdb)
	row.Figure("%d orphan plugin processes of %d; %d keys well formed", orphans, len(pids), keys)
	row.Outcome("the action reported failed, exit non-zero, plugins stopped with it, Redis consistent")
}

// TestFaultHemostatdKilled: SIGKILL to hemostatd mid-remediation, which
// gives it no chance to clean up: the kernel's parent-death signal takes
// every plugin with it, and Redis holds nothing malformed.
func TestFaultHemostatdKilled(t *testing.T) {
	row := daemontest.Fault(t, "SIGKILL to hemostatd mid-remediation")
	d, w, pids := startStuck(t)
	d.StopWith(syscall.SIGKILL)
	orphans := waitGone(t, pids)
	keys := checkRedisConsistent(t, d.rdb)
	reported := w.Count(protocol.TypeRemediationComplete, "stuck")
	row.Figure("%d orphan plugin processes of %d; %d keys well formed; the action under way reported %d times (a SIGKILL leaves no time)", orphans, len(pids), keys, reported)
	row.Outcome("plugins killed with it (parent-death signal), Redis consistent")
}

// startStuck runs hemostatd with every plugin and an action hanging in
// the responder plugin; it returns the plugins' PIDs.
func startStuck(t *testing.T) (*daemon, *daemontest.Watcher, []int) {
	t.Helper()
	srv := testenv.StartRedis(t)
	d := startDaemon(t, srv, hangingResponder)
	w := daemontest.Watch(t, d.rdb)
	waitSubscribers(t, d, protocol.TypeRemediationNeeded, 1)
	var pids []int
	for _, p := range d.Plugins(t) {
		if p.PID > 0 {
			pids = append(pids, p.PID)
		}
	}
	if len(pids) < 5 {
		t.Fatalf("expected every plugin running, got %+v", d.Plugins(t))
	}
	env, err := protocol.NewEnvelope(protocol.AgentAnalyzer, protocol.TypeRemediationNeeded,
		protocol.RemediationNeeded{Container: "stuck", Action: "restart", Reason: "crashed", Confidence: 0.9, Issues: []string{protocol.IssueExited(1)}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(env)
	if err := d.rdb.Publish(context.Background(), protocol.Channel(protocol.TypeRemediationNeeded), raw).Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(faultWait)
	for !strings.Contains(d.rdb.Get(context.Background(), protocol.StateKey("e2e-remediations")).Val(), "stuck") {
		if time.Now().After(deadline) {
			t.Fatal("the responder plugin never got the request")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return d, w, pids
}

// waitGone waits up to 10 s for the processes to exit and returns how
// many are still alive, failing the test for each.
func waitGone(t *testing.T, pids []int) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var left []int
		for _, pid := range pids {
			if alive(pid) {
				left = append(left, pid)
			}
		}
		if len(left) == 0 {
			return 0
		}
		if time.Now().After(deadline) {
			t.Errorf("plugin processes %v outlived hemostatd", left)
			return len(left)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkRedisConsistent checks every HemoStat key: each string is JSON,
// each event log holds at most EventLogMax envelopes of its type, and each
// key the protocol gives a lifetime has one. It returns how many keys it
// checked.
func checkRedisConsistent(t *testing.T, rdb *redis.Client) int {
	t.Helper()
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, protocol.Prefix+"*").Result()
	if err != nil {
		t.Fatalf("list the keys: %v", err)
	}
	for _, k := range keys {
		raw, err := rdb.Get(ctx, k).Result()
		if err != nil {
			continue // not a string: a history list or a silence set
		}
		if isLeaseValue(k) {
			// host/lease's own format, "<holder>:<generation>".
			i := strings.LastIndexByte(raw, ':')
			if gen, err := strconv.ParseInt(raw[i+1:], 10, 64); i <= 0 || err != nil || gen <= 0 {
				t.Errorf("%s holds no lease value: %.200s", k, raw)
			}
			continue
		}
		if !json.Valid([]byte(raw)) {
			t.Errorf("%s holds no JSON: %.200s", k, raw)
		}
		if typ, ok := strings.CutPrefix(k, protocol.EventLogKey("")); ok {
			var log []protocol.Envelope
			if err := json.Unmarshal([]byte(raw), &log); err != nil || len(log) > protocol.EventLogMax {
				t.Errorf("%s: %d envelopes (%v), want at most %d", k, len(log), err, protocol.EventLogMax)
			}
			for _, env := range log {
				if env.Type != typ {
					t.Errorf("%s holds a %s envelope", k, env.Type)
				}
			}
		}
		if strings.HasPrefix(k, protocol.StatsKey("")) || strings.HasPrefix(k, protocol.RemediationKey("")) || strings.HasPrefix(k, protocol.EventLogKey("")) {
			if ttl := rdb.TTL(ctx, k).Val(); ttl <= 0 {
				t.Errorf("%s has no lifetime (TTL %s)", k, ttl)
			}
		}
	}
	return len(keys)
}

// isLeaseValue says whether k is an engine's lease (not its generation
// counter, which is a number and so JSON).
func isLeaseValue(k string) bool {
	return strings.HasPrefix(k, protocol.Prefix+"lease:") && !strings.HasSuffix(k, ":gen")
}
