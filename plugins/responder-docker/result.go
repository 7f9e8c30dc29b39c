package dockerresponder

import (
	"fmt"
	"maps"

	"github.com/hemostat/hemostat/sdk"
)

func failed(msg string) sdk.Result {
	return sdk.Result{Status: sdk.StatusFailed, Error: msg}
}

// rejected is an action refused because the request itself is wrong: a
// command not on the allowlist, a bad parameter.
func rejected(msg string) sdk.Result {
	return sdk.Result{Status: sdk.StatusRejected, Error: msg}
}

// skipped is an action left undone on purpose because the container's
// state says acting would be wrong; Error carries the reason.
func skipped(msg string) sdk.Result {
	return sdk.Result{Status: sdk.StatusSkipped, Error: msg}
}

func notApplicable(msg string) sdk.Result {
	return sdk.Result{Status: sdk.StatusNotApplicable, Error: msg}
}

func succeeded() sdk.Result {
	return sdk.Result{Status: sdk.StatusSuccess}
}

// dryRun reports what an action would do.
func dryRun(format string, args ...any) sdk.Result {
	return sdk.Result{Status: sdk.StatusDryRun, Details: map[string]string{"would": fmt.Sprintf(format, args...)}}
}

// withDetail returns res with one more detail; res's map is not shared.
func withDetail(res sdk.Result, key, value string) sdk.Result {
	details := maps.Clone(res.Details)
	if details == nil {
		details = map[string]string{}
	}
	details[key] = value
	res.Details = details
	return res
}
