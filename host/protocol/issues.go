package protocol

import "github.com/hemostat/hemostat/sdk"

// Issue strings of a health_alert live in sdk, where plugins read them;
// these names keep the host's callers short.
var (
	IssueHighCPU     = sdk.IssueHighCPU
	IssueHighMemory  = sdk.IssueHighMemory
	IssueExited      = sdk.IssueExited
	IssueRestartLoop = sdk.IssueRestartLoop
)

// Issue strings and prefixes; see sdk.
const (
	IssueOOMKilled         = sdk.IssueOOMKilled
	IssueUnhealthy         = sdk.IssueUnhealthy
	IssuePrefixHighCPU     = sdk.IssuePrefixHighCPU
	IssuePrefixHighMemory  = sdk.IssuePrefixHighMemory
	IssuePrefixExited      = sdk.IssuePrefixExited
	IssuePrefixRestartLoop = sdk.IssuePrefixRestartLoop
)
