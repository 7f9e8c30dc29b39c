package dockerresponder

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/hemostat/hemostat/sdk"
)

// ParamSignal names the signal of a kill (default SIGKILL).
const ParamSignal = "signal"

// restart stops and starts the container, waits until it is back, then
// restarts the containers that share its network namespace.
func restart(ctx context.Context, c *call) sdk.Result {
	return bringBack(ctx, c, func(ctx context.Context, timeout int) error {
		return c.cli.ContainerRestart(ctx, c.target.ID, container.StopOptions{Timeout: &timeout})
	})
}

// start starts a container that is not running.
func start(ctx context.Context, c *call) sdk.Result {
	if c.target.State != nil && c.target.State.Running && !c.target.State.Paused && !c.target.State.Restarting {
		return notApplicable(fmt.Sprintf("%s is already running", c.name))
	}
	return bringBack(ctx, c, func(ctx context.Context, _ int) error {
		return c.cli.ContainerStart(ctx, c.target.ID, container.StartOptions{})
	})
}

// bringBack is restart and start: the safety checks, the engine call, the
// wait for a running (and healthy) container and the dependents.
func bringBack(ctx context.Context, c *call, do func(ctx context.Context, stopTimeout int) error) sdk.Result {
	skip, err := checkBringBack(ctx, c, time.Now())
	if err != nil {
		return rejected(err.Error())
	}
	if skip != "" {
		return skipped(fmt.Sprintf("%s not %sed: %s", c.name, c.req.Action, skip))
	}
	timeout, err := stopTimeout(c.target, c.cfg)
	if err != nil {
		return rejected(err.Error())
	}
	dependents := func() func() ([]dependent, []string, error) {
		if *c.cfg.RestartDependents {
			return listDependents(ctx, c)
		}
		return noDependents
	}
	if c.req.DryRun {
		deps, depSkipped, err := dependents()()
		if err != nil {
			return c.failure(ctx, "list containers sharing the network of", err)
		}
		return withSkipped(describeBringBack(c, timeout, deps), depSkipped)
	}

	if err := do(ctx, timeout); err != nil {
		return c.failure(ctx, c.req.Action, err)
	}
	// The dependents are listed while the container is verified, not
	// before the engine call: a list of every container is an engine
	// round trip that would compete with the restart for the engine at
	// the very moment the reaction is timed, and they are only restarted
	// once the container runs again.
	listed := dependents()
	res := verifyRunning(ctx, c.cli, c.target.ID, c.name, c.req.Action, c.cfg.VerifyTimeout.Std())
	deps, depSkipped, err := listed()
	if err != nil {
		// The container itself is back (or not) either way; the
		// dependents could not be looked for.
		return withDetail(res, "dependents_failed", fmt.Sprintf("list containers sharing the network of %s: %v", c.name, err))
	}
	res = withSkipped(res, depSkipped)
	if res.Status != sdk.StatusSuccess || len(deps) == 0 {
		return res
	}
	restarted, problems := restartDependents(ctx, c, deps)
	if len(restarted) > 0 {
		res = withDetail(res, "dependents_restarted", strings.Join(restarted, ","))
	}
	if len(problems) > 0 {
		res = withDetail(res, "dependents_failed", strings.Join(problems, "; "))
	}
	return res
}

// listDependents starts listing the dependents that passed
// screenDependents and returns a func that waits for the list. The list is
// one engine round trip over every container: in earnest it runs while
// the restarted container is verified, not on the way to the restart,
// since the dependents are only restarted after it.
func listDependents(ctx context.Context, c *call) func() ([]dependent, []string, error) {
	var (
		deps, allowed []dependent
		refused       []string
		err           error
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if deps, err = findDependents(ctx, c.cli, c.target); err == nil {
			allowed, refused = screenDependents(c, deps)
		}
	}()
	return func() ([]dependent, []string, error) {
		<-done
		return allowed, refused, err
	}
}

func noDependents() ([]dependent, []string, error) { return nil, nil, nil }

// describeBringBack is a dry run's account of what restart or start would do.
func describeBringBack(c *call, timeout int, deps []dependent) sdk.Result {
	what := fmt.Sprintf("%s %s (stop timeout %ds), then wait up to %s for it to run", c.req.Action, c.name, timeout, c.cfg.VerifyTimeout.Std())
	if hasHealthcheck(c.target) {
		what += " and be healthy"
	}
	if len(deps) > 0 {
		verb := "share"
		if len(deps) == 1 {
			verb = "shares"
		}
		what += fmt.Sprintf("; then restart %s, which %s its network namespace", strings.Join(dependentNames(deps), ", "), verb)
	}
	return dryRun("%s", what)
}

// withSkipped names the dependents left alone, if any.
func withSkipped(res sdk.Result, depSkipped []string) sdk.Result {
	if len(depSkipped) > 0 {
		res = withDetail(res, "dependents_skipped", strings.Join(depSkipped, "; "))
	}
	return res
}

// stopTimeout is the container's label hemostat.stop_timeout, or the
// configured default, in whole seconds as the engine takes it.
func stopTimeout(c container.InspectResponse, cfg Config) (int, error) {
	if c.Config != nil {
		if v, ok := c.Config.Labels[LabelStopTimeout]; ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 0 {
				return 0, fmt.Errorf("label %s=%q on %s: want a whole number of seconds", LabelStopTimeout, v, containerName(c))
			}
			return n, nil
		}
	}
	return int(cfg.StopTimeout.Std() / time.Second), nil
}

// stop stops a running container, killing it after its stop timeout.
func stop(ctx context.Context, c *call) sdk.Result {
	if c.target.State == nil || (!c.target.State.Running && !c.target.State.Restarting) {
		return notApplicable(fmt.Sprintf("%s is not running (%s)", c.name, describeState(c.target)))
	}
	timeout, err := stopTimeout(c.target, c.cfg)
	if err != nil {
		return rejected(err.Error())
	}
	if c.req.DryRun {
		return dryRun("stop %s (stop timeout %ds)", c.name, timeout)
	}
	if err := c.cli.ContainerStop(ctx, c.target.ID, container.StopOptions{Timeout: &timeout}); err != nil {
		return c.failure(ctx, "stop", err)
	}
	return succeeded()
}

// kill sends a signal (default SIGKILL) and, for a signal that ends a
// program, waits briefly for the container to exit so that StateAfter
// shows the outcome.
func kill(ctx context.Context, c *call) sdk.Result {
	sig := c.req.Params[ParamSignal]
	if sig == "" {
		sig = "SIGKILL"
	}
	name, num, err := parseSignal(sig)
	if err != nil {
		return rejected(err.Error())
	}
	if c.target.State == nil || !c.target.State.Running {
		return notApplicable(fmt.Sprintf("%s is not running (%s)", c.name, describeState(c.target)))
	}
	if c.req.DryRun {
		return dryRun("send %s to %s", name, c.name)
	}
	if err := c.cli.ContainerKill(ctx, c.target.ID, name); err != nil {
		return c.failure(ctx, "kill", err)
	}
	res := withDetail(succeeded(), "signal", name)
	if endSignals[strconv.Itoa(num)] {
		waitNotRunning(ctx, c, killWait)
	}
	return res
}

// killWait bounds the wait for a killed container to exit.
const killWait = 10 * time.Second

func waitNotRunning(ctx context.Context, c *call, limit time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	waitC, errC := c.cli.ContainerWait(ctx, c.target.ID, container.WaitConditionNotRunning)
	select {
	case <-waitC:
	case <-errC:
	}
}

// unpause resumes a paused container.
func unpause(ctx context.Context, c *call) sdk.Result {
	if c.target.State == nil || !c.target.State.Paused {
		return notApplicable(fmt.Sprintf("%s is not paused (%s)", c.name, describeState(c.target)))
	}
	if c.req.DryRun {
		return dryRun("unpause %s", c.name)
	}
	if err := c.cli.ContainerUnpause(ctx, c.target.ID); err != nil {
		return c.failure(ctx, "unpause", err)
	}
	return succeeded()
}
