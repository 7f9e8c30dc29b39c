package dockerresponder

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/errdefs"
	"github.com/hemostat/hemostat/sdk"
)

// stateRemoved is the StateAfter of a container that no longer exists.
const stateRemoved = "removed"

// isGone reports whether err says the container no longer exists, or is
// being removed: either way nothing more can be done to it.
func isGone(err error) bool {
	if err == nil {
		return false
	}
	if errdefs.IsNotFound(err) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "No such container") ||
		strings.Contains(msg, "is marked for removal") ||
		(strings.Contains(msg, "removal of container") && strings.Contains(msg, "in progress"))
}

// goneError is the one wording of a container that disappeared.
func goneError(name string) string {
	return fmt.Sprintf("container %s no longer exists", name)
}

// engineFailure turns an engine error into a failed Result.
func engineFailure(name, op string, err error) sdk.Result {
	if isGone(err) {
		return failed(goneError(name))
	}
	return failed(fmt.Sprintf("%s %s: %v", op, name, err))
}

// containerName is the container's name without Docker's leading slash,
// or its short ID when it has none.
func containerName(c container.InspectResponse) string {
	if name := strings.TrimPrefix(c.Name, "/"); name != "" {
		return name
	}
	return shortID(c.ID)
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// describeState is a container's state as a person reads it:
// "running (healthy)", "exited (1)", "exited (137, OOM killed)", "paused".
func describeState(c container.InspectResponse) string {
	st := c.State
	if st == nil {
		return "unknown"
	}
	switch {
	case st.Restarting:
		return fmt.Sprintf("restarting (last exit %d)", st.ExitCode)
	case st.Paused:
		return "paused"
	case st.Running:
		if st.Health != nil && st.Health.Status != "" {
			return fmt.Sprintf("running (%s)", st.Health.Status)
		}
		return "running"
	case st.Status == container.StateExited || st.Status == container.StateDead:
		if st.OOMKilled {
			return fmt.Sprintf("%s (%d, OOM killed)", st.Status, st.ExitCode)
		}
		return fmt.Sprintf("%s (%d)", st.Status, st.ExitCode)
	default:
		return string(st.Status)
	}
}

// failure turns an engine error on the target into a failed Result. The
// engine words a container removed mid-call in several ways ("No such
// container", "marked for removal", a failed kill); when the error is not
// plainly one of them, the container is looked up again to tell.
func (c *call) failure(ctx context.Context, op string, err error) sdk.Result {
	if !isGone(err) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, inspectErr := c.cli.ContainerInspect(ctx, c.target.ID); !isGone(inspectErr) {
			return engineFailure(c.name, op, err)
		}
	}
	return sdk.Result{Status: sdk.StatusFailed, Error: goneError(c.name), StateAfter: stateRemoved}
}
