package dockerresponder

import (
	"context"
	"fmt"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/hemostat/hemostat/sdk"
)

// dependent is a running container that joined another's network
// namespace (network_mode "container:<id or name>"; compose's
// "service:<name>" becomes that). When the other restarts, its namespace
// is a new one and the dependent is left without a network.
type dependent struct {
	id, name string
}

// findDependents lists the running containers sharing target's network
// namespace. Docker resolves a "container:" reference by full ID, then
// name, then ID prefix; so does this.
func findDependents(ctx context.Context, cli *client.Client, target container.InspectResponse) ([]dependent, error) {
	list, err := cli.ContainerList(ctx, container.ListOptions{})
	if err != nil {
		return nil, err
	}
	name := strings.TrimPrefix(target.Name, "/")
	var deps []dependent
	for _, s := range list {
		ref, ok := strings.CutPrefix(s.HostConfig.NetworkMode, "container:")
		if !ok || ref == "" || s.ID == target.ID {
			continue
		}
		if ref == target.ID || ref == name || strings.HasPrefix(target.ID, ref) {
			deps = append(deps, dependent{id: s.ID, name: summaryName(s)})
		}
	}
	return deps, nil
}

func summaryName(s container.Summary) string {
	if len(s.Names) > 0 {
		return strings.TrimPrefix(s.Names[0], "/")
	}
	return shortID(s.ID)
}

func dependentNames(deps []dependent) []string {
	names := make([]string, len(deps))
	for i, d := range deps {
		names[i] = d.name
	}
	return names
}

// restartDependents restarts each dependent and waits for it like the
// container itself. A dependent that fails does not fail the action: the
// container asked for is back; the problems are reported beside it.
func restartDependents(ctx context.Context, c *call, deps []dependent) (restarted, problems []string) {
	for _, d := range deps {
		dep, err := c.cli.ContainerInspect(ctx, d.id)
		if err != nil {
			problems = append(problems, engineFailure(d.name, "inspect", err).Error)
			continue
		}
		timeout, err := stopTimeout(dep, c.cfg)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if err := c.cli.ContainerRestart(ctx, d.id, container.StopOptions{Timeout: &timeout}); err != nil {
			problems = append(problems, engineFailure(d.name, "restart", err).Error)
			continue
		}
		res := verifyRunning(ctx, c.cli, d.id, d.name, sdk.ActionRestart, c.cfg.VerifyTimeout.Std())
		if res.Status != sdk.StatusSuccess {
			problems = append(problems, fmt.Sprintf("%s: %s", d.name, res.Error))
			continue
		}
		restarted = append(restarted, d.name)
	}
	return restarted, problems
}
