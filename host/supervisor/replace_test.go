package supervisor

import (
	"encoding/json"
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/hemostat/hemostat/sdk"
)

// TestReplace is a reload of one plugin's settings: the call under way
// finishes on the old process, new calls go to the new one, the old
// process is gone, a replacement the plugin refuses changes nothing, and
// the watcher restarts the new process with the new settings.
func TestReplace(t *testing.T) {
	ctx := testContext(t)
	host := sdk.NewMemoryHost()
	s := newSupervisor(t, testOptions(t, host))
	bin := binaryFor(t, sdk.RoleAnalyzer)
	spec := Spec{Role: sdk.RoleAnalyzer, Name: "reloaded", Path: bin, Config: json.RawMessage(`{"verdict": "remediate", "delay_ms": 400}`)}
	p, err := s.Start(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	oldPID := p.Status().PID

	// A slow call is under way when the reload commits.
	type answer struct {
		d   sdk.Decision
		err error
	}
	slow := make(chan answer, 1)
	go func() {
		d, err := analyze(ctx, p)
		slow <- answer{d, err}
	}()
	waitFor(t, "the slow call to start", func() bool { return p.inflightOf(oldPID) == 1 })

	next := spec
	next.Config = json.RawMessage(`{"verdict": "false_alarm"}`)
	next.Timeout = 3 * time.Second
	r, err := p.Prepare(ctx, next)
	if err != nil {
		t.Fatal(err)
	}
	if st := p.Status(); st.PID != oldPID {
		t.Fatalf("Prepare changed the running process: %+v", st)
	}
	newPID := r.PID()
	r.Commit(ctx)

	got := <-slow
	if got.err != nil || got.d.Verdict != sdk.VerdictRemediate || got.d.Reason != fmt.Sprintf("api: pid %d call 1", oldPID) {
		t.Fatalf("the call under way during the reload: %+v, %v; want the old process's remediate", got.d, got.err)
	}
	if err := syscall.Kill(oldPID, 0); err == nil {
		t.Fatalf("the replaced process %d still runs", oldPID)
	}
	d, err := analyze(ctx, p)
	if err != nil || d.Verdict != sdk.VerdictFalseAlarm || d.Reason != fmt.Sprintf("api: pid %d call 1", newPID) {
		t.Fatalf("call after the reload: %+v, %v; want false_alarm from pid %d", d, err, newPID)
	}
	if st, sp := p.Status(), p.Spec(); st.PID != newPID || st.State != StateRunning || st.Restarts != 0 || sp.Timeout != 3*time.Second {
		t.Fatalf("after the reload: status %+v, spec timeout %s", st, sp.Timeout)
	}

	// Settings the plugin refuses leave the running process alone.
	bad := spec
	bad.Config = json.RawMessage(`{"verdict": "shrug"}`)
	if _, err := p.Prepare(ctx, bad); !errors.As(err, new(sdk.ConfigErrors)) {
		t.Fatalf("Prepare with refused settings: %v, want the plugin's ConfigErrors", err)
	}
	if _, err := p.Prepare(ctx, Spec{Role: sdk.RoleAnalyzer, Name: "another", Path: bin}); err == nil {
		t.Fatal("Prepare accepted another plugin's spec")
	}
	if d, err := analyze(ctx, p); err != nil || d.Verdict != sdk.VerdictFalseAlarm {
		t.Fatalf("call after a refused reload: %+v, %v", d, err)
	}

	// The watcher watches the new process and restarts it with the new
	// settings.
	if err := syscall.Kill(newPID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	st := runningAgain(t, p, newPID)
	if d, err := analyze(ctx, p); err != nil || d.Verdict != sdk.VerdictFalseAlarm || d.Reason != fmt.Sprintf("api: pid %d call 1", st.PID) {
		t.Fatalf("call after the restart of the reloaded plugin: %+v, %v", d, err)
	}
}

// inflightOf returns the calls under way on the process pid, if it is the
// running one.
func (p *Plugin) inflightOf(pid int) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inst == nil || p.inst.pid != pid {
		return -1
	}
	return p.inst.inflight.Load()
}
