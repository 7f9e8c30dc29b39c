package monitor

import (
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// A kill event says which signal the engine sent, and the signal decides
// two separate things:
//
//   - whether the exit that follows was asked for (StopRequested): only a
//     signal that ends a process counts. docker kill -s HUP reloads
//     nginx; a crash after it is still a crash.
//   - whether the engine cancelled the restart policy for that exit
//     (PolicyCancelled, ManuallyStopped), which follows the engine's own
//     rule (moby daemon/kill.go, killWithSignal), not the first one.

// endingSignals are the signals sent to make a process exit: what docker
// stop, docker kill and an interactive Ctrl-C send. A container's own stop
// signal counts too (see stopRequestedBy).
var endingSignals = []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL, syscall.SIGINT, syscall.SIGQUIT}

// applyKill records a kill event with signal sig.
func (c *containerInfo) applyKill(sig syscall.Signal) {
	if c.stopRequestedBy(sig) {
		c.StopRequested = true
	}
	// The engine cancels the restart policy for the next exit when the
	// container has no stop signal of its own (any signal then cancels
	// it), when the signal is SIGKILL, or when it is the container's stop
	// signal. Any kill marks the container manually stopped, which keeps
	// an unless-stopped policy from restarting it.
	if c.StopSignal == 0 || sig == syscall.SIGKILL || sig == c.StopSignal {
		c.PolicyCancelled = true
	}
	c.ManuallyStopped = true
}

// stopRequestedBy says whether a kill with sig asks the container to exit.
func (c *containerInfo) stopRequestedBy(sig syscall.Signal) bool {
	for _, s := range endingSignals {
		if sig == s {
			return true
		}
	}
	return c.StopSignal != 0 && sig == c.StopSignal
}

// exitWasRequested says whether an exit code, seen without the events that
// led to it, is a death by a signal that stops containers: SIGTERM (143)
// or SIGINT (130), which the engine sends every container when it shuts
// down without live-restore, or the container's own stop signal. 137
// (SIGKILL) is not counted unless it is the container's stop signal: it is
// also what the kernel's OOM killer and a cgroup's limits send.
func (c *containerInfo) exitWasRequested(exitCode int, oomKilled bool) bool {
	if oomKilled {
		return false
	}
	switch exitCode {
	case 128 + int(syscall.SIGTERM), 128 + int(syscall.SIGINT):
		return true
	}
	return c.StopSignal != 0 && exitCode == 128+int(c.StopSignal)
}

// parseSignal reads a signal as the engine writes it: a number ("15") in
// a kill event's attributes, a name ("SIGTERM", "TERM") or a number in a
// container's StopSignal. It returns 0 for what it cannot read.
func parseSignal(s string) syscall.Signal {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0
		}
		return syscall.Signal(n)
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	return unix.SignalNum(name)
}

// killSignal is the signal of a kill event. An event without a readable
// one is taken as SIGKILL, docker kill's default.
func killSignal(attrs map[string]string) syscall.Signal {
	if sig := parseSignal(attrs["signal"]); sig != 0 {
		return sig
	}
	return syscall.SIGKILL
}
