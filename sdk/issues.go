package sdk

import (
	"fmt"
	"time"
)

// Issue strings of a health_alert, shared by the monitor role that writes
// them and the analyzers that read alerts from monitors that send no
// sample. They follow the protocol's example, "High CPU: 92.5%".

// IssueHighCPU is a CPU threshold breach.
func IssueHighCPU(pct float64) string { return fmt.Sprintf("High CPU: %.1f%%", pct) }

// IssueHighMemory is a memory threshold breach.
func IssueHighMemory(pct float64) string { return fmt.Sprintf("High memory: %.1f%%", pct) }

// IssueExited is a non-zero exit.
func IssueExited(code int) string { return fmt.Sprintf("Exited with code %d", code) }

// IssueOOMKilled is an out-of-memory kill.
const IssueOOMKilled = "OOM killed"

// IssueUnhealthy is a failing healthcheck.
const IssueUnhealthy = "Health check failing"

// IssueRestartLoop is a container restarting over and over.
func IssueRestartLoop(restarts int, within time.Duration) string {
	return fmt.Sprintf("Restart loop: %d restarts in %s", restarts, within)
}

// Issue prefixes, for matching issue strings.
const (
	IssuePrefixHighCPU     = "High CPU: "
	IssuePrefixHighMemory  = "High memory: "
	IssuePrefixExited      = "Exited with code "
	IssuePrefixRestartLoop = "Restart loop: "
)
