package supervisor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"
	"github.com/hemostat/hemostat/internal/testplugins/scripted"
	"github.com/hemostat/hemostat/sdk"
)

// callsFrom returns the pids of the processes that reported a call to
// host, in order.
func callsFrom(t testing.TB, host *sdk.MemoryHost) []int {
	t.Helper()
	var pids []int
	for _, ev := range host.Events() {
		if ev.Type != scripted.CallEvent {
			continue
		}
		var c scripted.Call
		if err := json.Unmarshal(ev.Data, &c); err != nil {
			t.Fatalf("call event %s: %v", ev.Data, err)
		}
		pids = append(pids, c.PID)
	}
	return pids
}

// exercise makes one role call and returns the pid of the process that
// answered, as the plugin reports it.
func exercise(ctx context.Context, t *testing.T, p *Plugin, host *sdk.MemoryHost) int {
	t.Helper()
	before := len(callsFrom(t, host))
	switch p.Spec().Role {
	case sdk.RoleAnalyzer:
		d, err := p.Analyzer().Analyze(ctx, sdk.AnalyzeRequest{Alert: sdk.Alert{Container: "api", Issues: []string{"High CPU: 92.5%"}}})
		if err != nil {
			t.Fatalf("Analyze: %v", err)
		}
		if d.Verdict != sdk.VerdictRemediate || !strings.HasPrefix(d.Reason, "api: pid ") {
			t.Fatalf("Analyze: got %+v", d)
		}
	case sdk.RoleMonitor:
		watchCtx, cancel := context.WithCancel(ctx)
		var got []sdk.Sample
		err := p.Monitor().Watch(watchCtx, func(s sdk.Sample) error {
			got = append(got, s)
			if len(got) == 3 {
				cancel()
			}
			return nil
		})
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Watch ended with %v, want context.Canceled", err)
		}
		if len(got) != 3 || got[2].Container != "scripted-2" || got[2].CPUPct != 2 {
			t.Fatalf("Watch: got %+v", got)
		}
	case sdk.RoleResponder:
		caps, err := p.Responder().Capabilities(ctx)
		if err != nil || len(caps) != 1 || caps[0] != sdk.ActionRestart {
			t.Fatalf("Capabilities: %v, %v", caps, err)
		}
		r, err := p.Responder().Remediate(ctx, sdk.RemediateRequest{Container: "api", Action: sdk.ActionRestart})
		if err != nil || r.Status != sdk.StatusSuccess || r.Details["container"] != "api" {
			t.Fatalf("Remediate: %+v, %v", r, err)
		}
		if pid, _ := strconv.Atoi(r.Details["pid"]); pid != p.Status().PID {
			t.Fatalf("Remediate answered by pid %s, Status says %d", r.Details["pid"], p.Status().PID)
		}
	case sdk.RoleAlert:
		if err := p.Notifier().Notify(ctx, sdk.Notification{Container: "api", Title: "t"}); err != nil {
			t.Fatalf("Notify: %v", err)
		}
		if err := p.Notifier().Notify(ctx, sdk.Notification{}); err == nil || errors.Is(err, ErrUnavailable) {
			t.Fatalf("Notify without container: got %v, want the plugin's own error", err)
		}
	}
	calls := callsFrom(t, host)
	if len(calls) <= before {
		t.Fatalf("the plugin reported no call through the host")
	}
	return calls[len(calls)-1]
}

func TestStartCallStop(t *testing.T) {
	tests := []struct {
		name    string
		role    string
		builtin bool
		config  string
	}{
		{name: "analyzer", role: sdk.RoleAnalyzer},
		{name: "monitor", role: sdk.RoleMonitor, config: `{"samples": 3}`},
		{name: "responder", role: sdk.RoleResponder},
		{name: "notifier", role: sdk.RoleAlert},
		{name: "built-in analyzer", role: sdk.RoleAnalyzer, builtin: true},
		{name: "built-in monitor", role: sdk.RoleMonitor, builtin: true, config: `{"samples": 3}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			host := sdk.NewMemoryHost()
			s := newSupervisor(t, testOptions(t, host))
			spec := Spec{Role: tt.role, Name: "t1", Config: json.RawMessage(tt.config)}
			if !tt.builtin {
				spec.Path = binaryFor(t, tt.role)
			}
			p, err := s.Start(ctx, spec)
			if err != nil {
				t.Fatalf("Start: %v", err)
			}
			st := p.Status()
			if st.State != StateRunning || st.PID == 0 || st.Path != spec.Path || st.Restarts != 0 {
				t.Fatalf("Status after Start: %+v", st)
			}
			if pid := exercise(ctx, t, p, host); pid != st.PID {
				t.Fatalf("call answered by pid %d, Status says %d", pid, st.PID)
			}

			s.Stop(ctx)
			if st := p.Status(); st.State != StateStopped || st.PID != 0 {
				t.Fatalf("Status after Stop: %+v", st)
			}
			if !processGone(st.PID) {
				t.Fatalf("pid %d still runs after Stop", st.PID)
			}
			if _, err := p.Analyzer().Analyze(ctx, sdk.AnalyzeRequest{}); !errors.Is(err, ErrUnavailable) {
				t.Fatalf("call after Stop: got %v, want ErrUnavailable", err)
			}
		})
	}
}

func TestBuiltinReportsItsName(t *testing.T) {
	ctx := testContext(t)
	info, err := Probe(ctx, testOptions(t, nil), Spec{Role: sdk.RoleResponder, Name: "docker"})
	if err != nil {
		t.Fatal(err)
	}
	want := sdk.Info{Role: sdk.RoleResponder, Name: "docker", Version: "0.0.0-test", ProtocolVersion: sdk.ProtocolVersion}
	if info != want {
		t.Fatalf("Info: got %+v, want %+v", info, want)
	}
}

func TestConfigureRejected(t *testing.T) {
	tests := []struct {
		name   string
		config string
		want   sdk.ConfigErrors
	}{
		{"unknown key", `{"bogus": 1}`, sdk.ConfigErrors{{Key: "bogus", Message: "unknown setting"}}},
		{"bad value", `{"verdict": "maybe"}`, sdk.ConfigErrors{{Key: "verdict", Message: "must be one of [remediate false_alarm escalate abstain]"}}},
		{"two problems", `{"crash_on_call": -1, "samples": -2}`, sdk.ConfigErrors{
			{Key: "crash_on_call", Message: "must not be negative"},
			{Key: "samples", Message: "must not be negative"},
		}},
		{"wrong type", `{"samples": "many"}`, sdk.ConfigErrors{{Key: "samples", Message: "must be int, not string"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			s := newSupervisor(t, testOptions(t, sdk.NewMemoryHost()))
			_, err := s.Start(ctx, Spec{Role: sdk.RoleAnalyzer, Name: "picky", Path: binaryFor(t, sdk.RoleAnalyzer), Config: json.RawMessage(tt.config)})
			got, ok := err.(sdk.ConfigErrors)
			if !ok {
				t.Fatalf("Start: got %T %v, want sdk.ConfigErrors as is", err, err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("Start: got %v, want %v", got, tt.want)
			}
			if kids := childPIDs(t); len(kids) != 0 {
				t.Fatalf("rejected plugin left processes %v", kids)
			}
			if st := s.Status(); len(st) != 0 {
				t.Fatalf("rejected plugin is listed: %+v", st)
			}
		})
	}
}

func TestSHA256Pin(t *testing.T) {
	analyzer := pluginBinary(t, "analyzer")
	right, err := FileSHA256(analyzer)
	if err != nil {
		t.Fatal(err)
	}
	other, err := FileSHA256(pluginBinary(t, "monitor"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		pin     string
		wantErr []string // substrings; nil means Start succeeds
		is      error
	}{
		{name: "right", pin: right},
		{name: "right in capitals", pin: strings.ToUpper(right)},
		{name: "wrong", pin: other, wantErr: []string{"sha256 is " + right, "config pins " + other}, is: plugin.ErrChecksumsDoNotMatch},
		{name: "malformed", pin: "abc", wantErr: []string{"invalid spec", `sha256 "abc" is not 64 hex digits`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			s := newSupervisor(t, testOptions(t, sdk.NewMemoryHost()))
			p, err := s.Start(ctx, Spec{Role: sdk.RoleAnalyzer, Name: "pinned", Path: analyzer, SHA256: tt.pin})
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Start: %v", err)
				}
				if st := p.Status(); st.State != StateRunning {
					t.Fatalf("Status: %+v", st)
				}
				return
			}
			if err == nil {
				t.Fatal("Start succeeded, want an error")
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
			if kids := childPIDs(t); len(kids) != 0 {
				t.Fatalf("refused plugin left processes %v", kids)
			}
		})
	}
}

func TestStartRefusesBadSpecs(t *testing.T) {
	analyzer := pluginBinary(t, "analyzer")
	// A program that writes to stdout, where the handshake belongs.
	notAPlugin := filepath.Join(t.TempDir(), "hemostat-analyzer-chatty")
	if err := os.WriteFile(notAPlugin, []byte("#!/bin/sh\necho hello\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts func(*Options)
		spec Spec
		want string
	}{
		{"unknown role", nil, Spec{Role: "janitor", Name: "x", Path: analyzer}, `role "janitor" is not one of`},
		{"no name", nil, Spec{Role: sdk.RoleAnalyzer, Path: analyzer}, "name is empty"},
		{"negative timeout", nil, Spec{Role: sdk.RoleAnalyzer, Name: "x", Path: analyzer, Timeout: -time.Second}, "timeout -1s is negative"},
		{"other role", nil, Spec{Role: sdk.RoleMonitor, Name: "x", Path: analyzer}, "plugin serves another role: it is a analyzer plugin"},
		{"missing binary", nil, Spec{Role: sdk.RoleAnalyzer, Name: "x", Path: analyzer + "-missing"}, "no such file or directory"},
		{"built-in without self", func(o *Options) { o.Self = "" }, Spec{Role: sdk.RoleAnalyzer, Name: "x"}, "Options.Self"},
		{"not a plugin", nil, Spec{Role: sdk.RoleAnalyzer, Name: "x", Path: notAPlugin}, "Unrecognized remote plugin message: hello"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			opts := testOptions(t, sdk.NewMemoryHost())
			if tt.opts != nil {
				tt.opts(&opts)
			}
			s := newSupervisor(t, opts)
			_, err := s.Start(ctx, tt.spec)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Start: got %v, want an error saying %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), "plugin "+tt.spec.Role+"."+tt.spec.Name) {
				t.Fatalf("error %q does not name the plugin", err)
			}
			if kids := childPIDs(t); len(kids) != 0 {
				t.Fatalf("refused plugin left processes %v", kids)
			}
		})
	}
}

func TestAdapterOfAnotherRole(t *testing.T) {
	ctx := testContext(t)
	s := newSupervisor(t, testOptions(t, sdk.NewMemoryHost()))
	p, err := s.Start(ctx, Spec{Role: sdk.RoleAnalyzer, Name: "a", Path: binaryFor(t, sdk.RoleAnalyzer)})
	if err != nil {
		t.Fatal(err)
	}
	err = p.Monitor().Watch(ctx, func(sdk.Sample) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "a analyzer plugin has no such method") {
		t.Fatalf("Watch on an analyzer: got %v", err)
	}
	if _, err := p.Responder().Capabilities(ctx); err == nil {
		t.Fatal("Capabilities on an analyzer succeeded")
	}
}

func TestStopLeavesNoChild(t *testing.T) {
	ctx := testContext(t)
	s := newSupervisor(t, testOptions(t, sdk.NewMemoryHost()))
	specs := []Spec{
		{Role: sdk.RoleMonitor, Name: "m", Path: binaryFor(t, sdk.RoleMonitor)},
		{Role: sdk.RoleAnalyzer, Name: "a", Path: binaryFor(t, sdk.RoleAnalyzer)},
		{Role: sdk.RoleAnalyzer, Name: "builtin"},
		{Role: sdk.RoleResponder, Name: "r", Path: binaryFor(t, sdk.RoleResponder)},
		{Role: sdk.RoleAlert, Name: "n", Path: binaryFor(t, sdk.RoleAlert)},
		// A plugin wedged in a call must not hold Stop up for good.
		{Role: sdk.RoleAnalyzer, Name: "wedged", Path: binaryFor(t, sdk.RoleAnalyzer), Config: json.RawMessage(`{"hang_on_call": 1}`), Timeout: 300 * time.Millisecond},
	}
	var pids []int
	for _, spec := range specs {
		p, err := s.Start(ctx, spec)
		if err != nil {
			t.Fatalf("Start %s: %v", spec.label(), err)
		}
		pids = append(pids, p.Status().PID)
		if spec.Name == "wedged" {
			go p.Analyzer().Analyze(ctx, sdk.AnalyzeRequest{Alert: sdk.Alert{Container: "x"}})
		}
	}
	if kids := childPIDs(t); len(kids) != len(specs) {
		t.Fatalf("children %v, want one per plugin %v", kids, pids)
	}

	// Concurrent and repeated Stops, as from a signal handler and a
	// deferred call, all return once everything is down.
	stopCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	done := make(chan struct{})
	for range 3 {
		go func() {
			s.Stop(stopCtx)
			done <- struct{}{}
		}()
	}
	for range 3 {
		<-done
		for _, pid := range pids {
			if !processGone(pid) {
				t.Fatalf("pid %d still runs after Stop returned", pid)
			}
		}
	}
	if kids := childPIDs(t); len(kids) != 0 {
		t.Fatalf("processes left after Stop: %v", kids)
	}
	for _, st := range s.Status() {
		if st.State != StateStopped || st.PID != 0 {
			t.Fatalf("Status after Stop: %+v", st)
		}
	}
	if _, err := s.Start(ctx, specs[0]); !errors.Is(err, ErrStopped) {
		t.Fatalf("Start after Stop: got %v, want ErrStopped", err)
	}
}
