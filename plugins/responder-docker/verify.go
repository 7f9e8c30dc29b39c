package dockerresponder

import (
	"context"
	"fmt"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/hemostat/hemostat/sdk"
)

// verifyPoll is how often the wait for a healthy container inspects it.
// Inspect is cheap for the engine (no stats, no cgroup reads).
const verifyPoll = 250 * time.Millisecond

// hasHealthcheck reports whether the container runs a healthcheck, whose
// verdict a restart must then wait for.
func hasHealthcheck(c container.InspectResponse) bool {
	if c.State != nil && c.State.Health != nil {
		return true
	}
	hc := c.Config
	return hc != nil && hc.Healthcheck != nil && len(hc.Healthcheck.Test) > 0 && hc.Healthcheck.Test[0] != "NONE"
}

// verifyRunning waits until the container runs, and is healthy when it has
// a healthcheck, within limit. It fails at once when the container exits,
// is restarted by its own policy, turns unhealthy or disappears.
func verifyRunning(ctx context.Context, cli *client.Client, id, name, action string, limit time.Duration) sdk.Result {
	began := time.Now()
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	tick := time.NewTicker(verifyPoll)
	defer tick.Stop()

	last := "unknown"
	for {
		c, err := cli.ContainerInspect(ctx, id)
		if err != nil {
			if isGone(err) {
				return sdk.Result{Status: sdk.StatusFailed, Error: goneError(name), StateAfter: stateRemoved}
			}
			if ctx.Err() != nil {
				return failed(fmt.Sprintf("gave up waiting for %s after %s: %v", name, action, ctx.Err()))
			}
			return engineFailure(name, "inspect", err)
		}
		last = describeState(c)
		if done, res := judgeRunning(c, name, action, time.Since(began)); done {
			res.StateAfter = last
			return res
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			return sdk.Result{
				Status:     sdk.StatusFailed,
				Error:      fmt.Sprintf("%s still %s %s after %s", name, last, limit, action),
				StateAfter: last,
			}
		case <-ctx.Done():
			return sdk.Result{
				Status:     sdk.StatusFailed,
				Error:      fmt.Sprintf("gave up waiting for %s after %s: %v", name, action, ctx.Err()),
				StateAfter: last,
			}
		}
	}
}

// judgeRunning decides from one inspect whether the wait is over, and how.
func judgeRunning(c container.InspectResponse, name, action string, elapsed time.Duration) (bool, sdk.Result) {
	st := c.State
	if st == nil {
		return false, sdk.Result{}
	}
	ago := elapsed.Round(100 * time.Millisecond)
	switch {
	case st.Restarting:
		return true, failed(fmt.Sprintf("%s exited with code %d %s after %s; its restart policy is restarting it", name, st.ExitCode, ago, action))
	case st.Status == container.StateExited || st.Status == container.StateDead:
		what := fmt.Sprintf("exited with code %d", st.ExitCode)
		if st.OOMKilled {
			what = "was OOM killed"
		}
		return true, failed(fmt.Sprintf("%s %s %s after %s", name, what, ago, action))
	case !st.Running || st.Paused:
		return false, sdk.Result{}
	case st.Health == nil:
		return true, succeeded()
	case st.Health.Status == container.Healthy:
		return true, succeeded()
	case st.Health.Status == container.Unhealthy:
		return true, failed(fmt.Sprintf("%s unhealthy %s after %s", name, ago, action))
	}
	return false, sdk.Result{}
}
