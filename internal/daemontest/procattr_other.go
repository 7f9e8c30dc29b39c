//go:build !linux

package daemontest

import "syscall"

// childAttr is empty where there is no parent-death signal: the cleanup
// that stops hemostatd is all there is.
func childAttr() *syscall.SysProcAttr {
	return nil
}
