package daemontest

import "syscall"

// childAttr kills the child when the test binary dies, so that a crashed
// or killed test run leaves no hemostatd behind, and gives it a process
// group of its own, which StopGroup signals as a service manager would.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}

// signalGroup sends sig to every process of pid's process group.
func signalGroup(pid int, sig syscall.Signal) error {
	return syscall.Kill(-pid, sig)
}
