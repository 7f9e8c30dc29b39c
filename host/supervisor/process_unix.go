//go:build unix

package supervisor

import (
	"errors"
	"syscall"
)

// processExists reports whether a process of that PID runs: signal 0
// checks without sending. EPERM means it runs as another user.
func processExists(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
