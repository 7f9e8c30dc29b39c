//go:build !linux

package daemontest

import (
	"os"
	"syscall"
)

// childAttr is empty where there is no parent-death signal: the cleanup
// that stops hemostatd is all there is.
func childAttr() *syscall.SysProcAttr {
	return nil
}

// signalGroup signals only pid where process groups are not set up.
func signalGroup(pid int, sig syscall.Signal) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Signal(sig)
}
