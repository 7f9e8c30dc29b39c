//go:build !linux

package supervisor

import "os/exec"

// setDeathSignal does nothing where the OS has no parent-death signal;
// there Stop and plugin.CleanupClients are the only guard against orphans.
func setDeathSignal(*exec.Cmd) {}
