package dockerresponder

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/hemostat/hemostat/sdk"
)

// Request parameters the host passes along with an action.
const (
	// ParamTrigger says what raised the alert: TriggerResource for a
	// resource threshold (CPU, memory), TriggerLifecycle for an exit, OOM
	// kill or failing healthcheck.
	ParamTrigger = "trigger"
	// ParamStopRequested is "true" when the monitor saw the container
	// being stopped on purpose (docker stop, docker kill), "false" when it
	// saw it die on its own. Without it the responder asks the engine.
	ParamStopRequested = "stop_requested"
)

// Triggers.
const (
	TriggerResource  = "resource"
	TriggerLifecycle = "lifecycle"
)

// LabelStopTimeout on a container sets its stop timeout in whole seconds.
const LabelStopTimeout = "hemostat.stop_timeout"

// checkBringBack decides whether restart or start may act on the container.
// It returns a non-empty reason to skip, or an error for a bad parameter.
func checkBringBack(ctx context.Context, c *call, now time.Time) (skip string, err error) {
	st := c.target.State
	if st == nil {
		return "", nil
	}
	trigger, err := triggerOf(c.req.Params, st)
	if err != nil {
		return "", err
	}
	switch {
	case st.Paused:
		return "the container is paused, which is not a sickness; unpause is its own action", nil
	case st.Restarting:
		return fmt.Sprintf("Docker's restart policy %q is already restarting it", c.target.HostConfig.RestartPolicy.Name), nil
	}
	if st.Status == container.StateExited {
		how, err := stoppedOnPurpose(ctx, c, now)
		if err != nil {
			return "", err
		}
		if how != "" {
			return fmt.Sprintf("it was stopped on purpose (%s); a person's stop is not undone", how), nil
		}
	}
	if st.Running && trigger == TriggerResource && c.req.Action == sdk.ActionRestart {
		started, err := time.Parse(time.RFC3339Nano, st.StartedAt)
		if grace := c.cfg.StartGrace.Std(); err == nil && now.Sub(started) < grace {
			return fmt.Sprintf("it started %s ago, within start_grace %s: high usage right after a start is warm-up",
				now.Sub(started).Round(time.Second), grace), nil
		}
	}
	return "", nil
}

// triggerOf reads the trigger parameter. Without one, a container that is
// exited, dead or unhealthy was raised by a lifecycle event, any other by a
// resource threshold.
func triggerOf(params map[string]string, st *container.State) (string, error) {
	switch t := params[ParamTrigger]; t {
	case TriggerResource, TriggerLifecycle:
		return t, nil
	case "":
		if !st.Running || (st.Health != nil && st.Health.Status == container.Unhealthy) {
			return TriggerLifecycle, nil
		}
		return TriggerResource, nil
	default:
		return "", fmt.Errorf("parameter %s=%q: want %q or %q", ParamTrigger, t, TriggerResource, TriggerLifecycle)
	}
}

// stoppedOnPurpose tells whether an exited container was stopped by a
// request rather than dying on its own, and how that is known. Inspect
// does not record it, so the evidence is, in order:
//
//  1. the stop_requested parameter, when the host's monitor saw the stop;
//  2. the engine's event log: a "stop" event, or a "kill" event with a
//     terminating signal, between the container's start and its exit (the
//     engine keeps its recent events only, so this can miss an old stop);
//  3. a restart policy that should have brought it back but did not:
//     "always" and "unless-stopped" give up only after a stop request, and
//     "on-failure" after a non-zero exit only then or at its retry limit.
//
// An OOM kill is never a stop on purpose.
func stoppedOnPurpose(ctx context.Context, c *call, now time.Time) (string, error) {
	st := c.target.State
	if v, ok := c.req.Params[ParamStopRequested]; ok {
		requested, err := strconv.ParseBool(v)
		if err != nil {
			return "", fmt.Errorf("parameter %s=%q: want true or false", ParamStopRequested, v)
		}
		if requested {
			return "the monitor saw a stop request", nil
		}
		return "", nil
	}
	if st.OOMKilled {
		return "", nil
	}
	if ev := stopEvent(ctx, c, now); ev != "" {
		return ev, nil
	}
	policy := c.target.HostConfig.RestartPolicy
	switch {
	case policy.Name == container.RestartPolicyAlways || policy.Name == container.RestartPolicyUnlessStopped:
		return fmt.Sprintf("restart policy %q did not bring it back", policy.Name), nil
	case policy.Name == container.RestartPolicyOnFailure && st.ExitCode != 0 &&
		(policy.MaximumRetryCount == 0 || c.target.RestartCount < policy.MaximumRetryCount):
		return fmt.Sprintf("restart policy %q did not bring it back", policy.Name), nil
	}
	return "", nil
}

// endSignals are the signals, as the engine logs them on a kill event, that
// ask a program to end: SIGINT, SIGQUIT, SIGKILL and SIGTERM.
var endSignals = map[string]bool{"2": true, "3": true, "9": true, "15": true}

// stopEvent looks in the engine's event log for a stop or terminating kill
// during the container's last run. It returns "" when there is none or the
// log cannot be read: the event log is evidence, not a requirement.
func stopEvent(ctx context.Context, c *call, now time.Time) string {
	st := c.target.State
	started, err1 := time.Parse(time.RFC3339Nano, st.StartedAt)
	finished, err2 := time.Parse(time.RFC3339Nano, st.FinishedAt)
	if err1 != nil || err2 != nil || started.IsZero() || finished.Before(started) {
		return ""
	}
	until := finished.Add(time.Second)
	if until.After(now) {
		until = now
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	msgs, errs := c.cli.Events(ctx, events.ListOptions{
		Since: unixTime(started),
		Until: unixTime(until),
		Filters: filters.NewArgs(
			filters.Arg("type", string(events.ContainerEventType)),
			filters.Arg("container", c.target.ID),
			filters.Arg("event", string(events.ActionStop)),
			filters.Arg("event", string(events.ActionKill)),
		),
	})
	found := ""
	for {
		select {
		case m := <-msgs:
			switch {
			case m.Action == events.ActionStop:
				found = "the engine logged a stop request"
			case m.Action == events.ActionKill && endSignals[m.Actor.Attributes["signal"]] && found == "":
				found = "the engine logged a kill with signal " + m.Actor.Attributes["signal"]
			}
		case <-errs:
			// io.EOF once the log up to Until is read, or a failure.
			return found
		}
	}
}

func unixTime(t time.Time) string {
	return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond())
}
