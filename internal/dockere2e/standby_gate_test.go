package dockere2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hemostat/hemostat/host/gate"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/daemontest"
	"github.com/hemostat/hemostat/internal/testenv"
)

// TestStandbyContinuesTheBackoff: two hemostatd on one engine and one
// redis-server; a container crash-loops, the active daemon restarts it once
// and defers the next restart to its backoff; SIGKILL it. The standby takes
// the lease, reads the gate's state back from Redis and restarts the
// container no earlier than the retry time the dead daemon announced —
// the continued backoff, not a fresh immediate restart — and not at all
// would it have lost the parked request.
func TestStandbyContinuesTheBackoff(t *testing.T) {
	e := newEngine(t)
	p := scenarioPrefix()
	srv := testenv.StartRedis(t)
	rdb := srv.Client(t)
	w := daemontest.Watch(t, rdb)
	// A backoff long enough for the handover to happen inside it.
	slow := func(s *settings) { s.BackoffInitial, s.BackoffMax = "15s", "1m" }
	first, second := elected(t, rdb, 2*leaseTTL, startSharingRedis(t, srv, p, slow), startSharingRedis(t, srv, p, slow))

	name := p + "loop"
	e.run(t, name, []string{"--exit", "1", "--after", "1s"}, nil, nil)
	w.WaitFor(t, completeType, name, daemontest.StatusIs("success"), 60*time.Second)
	deferred := w.WaitFor(t, completeType, name, daemontest.StatusIs("deferred"), 60*time.Second)
	retryAt, err := protocol.ParseTimestamp(deferred.Str("result", "retry_at"))
	if err != nil {
		t.Fatalf("deferred result's retry_at %q: %v", deferred.Str("result", "retry_at"), err)
	}

	first.StopWith(syscall.SIGKILL)
	mark := w.Len()
	waitHolder(t, rdb, 3*leaseTTL, second)
	done := w.AwaitAfter(t, mark, completeType, name, daemontest.StatusIs("success"), 2*time.Minute)
	at, err := protocol.ParseTimestamp(done.Env["timestamp"].(string))
	if err != nil {
		t.Fatalf("the standby's result timestamp: %v", err)
	}
	if at.Before(retryAt) {
		t.Errorf("the standby restarted %s at %s, before the backoff's retry time %s the old daemon announced:\n%s",
			name, at, retryAt, w.Dump(name))
	}
	// The standby's own gate, as its API shows it: the restart it made is
	// the second of the streak, not the first of a fresh one.
	resp, err := http.Get("http://" + second.HTTPAddr() + "/api/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		Containers []gate.ContainerState `json:"containers"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatalf("decode /api/v1/status: %v", err)
	}
	step := -1
	for _, c := range st.Containers {
		if c.Container == name {
			step = c.BackoffStep
		}
	}
	if step < 2 {
		t.Errorf("the standby's gate shows %s at backoff step %d after its restart, want 2 or more (continued): %+v", name, step, st.Containers)
	}
	if !strings.Contains(second.Logs(), "gate state read back from Redis") {
		t.Errorf("the standby's log does not say it read the gate state back")
	}
}
