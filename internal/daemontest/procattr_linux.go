package daemontest

import "syscall"

// childAttr kills the child when the test binary dies, so that a crashed
// or killed test run leaves no hemostatd behind.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
