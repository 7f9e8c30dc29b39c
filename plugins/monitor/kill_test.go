package monitor

import (
	"syscall"
	"testing"
)

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]syscall.Signal{
		"15":      syscall.SIGTERM,
		"9":       syscall.SIGKILL,
		"SIGTERM": syscall.SIGTERM,
		"QUIT":    syscall.SIGQUIT,
		"sigusr1": syscall.SIGUSR1,
		"":        0,
		"0":       0,
		"-3":      0,
		"SIGNOPE": 0,
	} {
		if got := parseSignal(in); got != want {
			t.Errorf("parseSignal(%q) = %d, want %d", in, got, want)
		}
	}
	if got := killSignal(map[string]string{}); got != syscall.SIGKILL {
		t.Errorf("kill event without a signal = %d, want SIGKILL (docker kill's default)", got)
	}
}

// TestApplyKill checks both facts a kill records: whether it asks the
// container to exit, and whether the engine cancels its restart policy
// (moby daemon/kill.go: no stop signal of its own, SIGKILL, or its stop
// signal).
func TestApplyKill(t *testing.T) {
	tests := []struct {
		name          string
		stopSignal    syscall.Signal
		sig           syscall.Signal
		wantStop      bool
		wantCancelled bool
	}{
		{"docker stop", 0, syscall.SIGTERM, true, true},
		{"docker kill", 0, syscall.SIGKILL, true, true},
		{"interrupt", 0, syscall.SIGINT, true, true},
		{"quit", 0, syscall.SIGQUIT, true, true},
		{"reload, no stop signal of its own", 0, syscall.SIGHUP, false, true},
		{"user signal, no stop signal of its own", 0, syscall.SIGUSR1, false, true},
		{"reload, its own stop signal is QUIT", syscall.SIGQUIT, syscall.SIGHUP, false, false},
		{"its own stop signal", syscall.SIGUSR2, syscall.SIGUSR2, true, true},
		{"SIGTERM, its own stop signal is QUIT", syscall.SIGQUIT, syscall.SIGTERM, true, false},
		{"SIGKILL, its own stop signal is QUIT", syscall.SIGQUIT, syscall.SIGKILL, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := containerInfo{StopSignal: tt.stopSignal}
			c.applyKill(tt.sig)
			if c.StopRequested != tt.wantStop || c.PolicyCancelled != tt.wantCancelled || !c.ManuallyStopped {
				t.Fatalf("after kill %d: StopRequested %v, PolicyCancelled %v, ManuallyStopped %v; want %v, %v, true",
					tt.sig, c.StopRequested, c.PolicyCancelled, c.ManuallyStopped, tt.wantStop, tt.wantCancelled)
			}
		})
	}
}

func TestExitWasRequested(t *testing.T) {
	tests := []struct {
		name       string
		stopSignal syscall.Signal
		exit       int
		oom        bool
		want       bool
	}{
		{"SIGTERM", 0, 143, false, true},
		{"SIGINT", 0, 130, false, true},
		{"crash", 0, 1, false, false},
		{"clean exit", 0, 0, false, false},
		{"SIGKILL", 0, 137, false, false},
		{"OOM kill", 0, 137, true, false},
		{"SIGTERM of an OOM-killed container", 0, 143, true, false},
		{"its own stop signal", syscall.SIGQUIT, 131, false, true},
		{"its own stop signal is SIGKILL", syscall.SIGKILL, 137, false, true},
	}
	for _, tt := range tests {
		c := containerInfo{StopSignal: tt.stopSignal}
		if got := c.exitWasRequested(tt.exit, tt.oom); got != tt.want {
			t.Errorf("%s: exitWasRequested(%d, oom %v) = %v, want %v", tt.name, tt.exit, tt.oom, got, tt.want)
		}
	}
}
