package supervisor

import (
	"os/exec"
	"syscall"
)

// setDeathSignal makes the kernel SIGKILL the plugin when hemostatd dies,
// however it dies: a SIGKILLed host runs no cleanup of its own. Linux sends
// the signal when the thread that started the child exits; the Go runtime
// does not retire threads that are not locked to a goroutine, so in
// practice that is when the process exits.
func setDeathSignal(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
