package dockerresponder

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/hemostat/hemostat/sdk"
)

// LabelEnable set to false on a container opts it out of HemoStat; the
// host checks it on the container it acts on, the plugin on dependents.
const LabelEnable = sdk.LabelEnable

// dependent is a running container that joined another's network
// namespace (network_mode "container:<id or name>"; compose's
// "service:<name>" becomes that). When the other restarts, its namespace
// is a new one and the dependent is left without a network.
type dependent struct {
	id, name string
	labels   map[string]string
}

// findDependents lists the running containers sharing target's network
// namespace.
func findDependents(ctx context.Context, cli *client.Client, target container.InspectResponse) ([]dependent, error) {
	// All containers, stopped ones too: a stopped container's name still
	// takes precedence over an ID prefix in the engine's lookup.
	list, err := cli.ContainerList(ctx, container.ListOptions{All: true})
	if err != nil {
		return nil, err
	}
	var deps []dependent
	for _, s := range list {
		ref, ok := strings.CutPrefix(s.HostConfig.NetworkMode, "container:")
		if !ok || s.ID == target.ID || s.State != container.StateRunning {
			continue
		}
		if resolveRef(list, ref) == target.ID {
			deps = append(deps, dependent{id: s.ID, name: summaryName(s), labels: s.Labels})
		}
	}
	// In name order, so that results read the same from one run to the next.
	slices.SortFunc(deps, func(a, b dependent) int { return strings.Compare(a.name, b.name) })
	return deps, nil
}

// resolveRef returns the ID of the container a "container:" reference
// names, or "" for none, in the engine's order: full ID, then exact name,
// then an ID prefix only when no container has that name and the prefix
// is not ambiguous. Recent engines store the full ID they resolved at
// create time; others keep the reference as written, which may be a name
// that is also a prefix of some other container's ID.
func resolveRef(list []container.Summary, ref string) string {
	if ref == "" {
		return ""
	}
	for _, s := range list {
		if s.ID == ref {
			return s.ID
		}
	}
	name := "/" + strings.TrimPrefix(ref, "/")
	for _, s := range list {
		for _, n := range s.Names {
			if n == name {
				return s.ID
			}
		}
	}
	found := ""
	for _, s := range list {
		if strings.HasPrefix(s.ID, ref) {
			if found != "" {
				return "" // ambiguous: the engine refuses it
			}
			found = s.ID
		}
	}
	return found
}

// summaryName is a listed container's own name. Names also holds the
// names it has as a link alias ("/other/alias"), which have two slashes.
func summaryName(s container.Summary) string {
	for _, n := range s.Names {
		if name := strings.TrimPrefix(n, "/"); name != "" && !strings.Contains(name, "/") {
			return name
		}
	}
	return shortID(s.ID)
}

// screenDependents splits deps into those that may be restarted and the
// others, each listed as "name (reason)". The host's safety gate never saw
// the dependents, so the checks that matter most are repeated here: the
// opt-out label, the plugin's own container and the protected names.
func screenDependents(c *call, deps []dependent) (allowed []dependent, refused []string) {
	for _, d := range deps {
		if reason := dependentRefusal(c, d); reason != "" {
			refused = append(refused, fmt.Sprintf("%s (%s)", d.name, reason))
			continue
		}
		allowed = append(allowed, d)
	}
	return allowed, refused
}

// dependentRefusal explains why d must not be restarted, or returns "".
func dependentRefusal(c *call, d dependent) string {
	if reason := c.self.ownReason(d.id, c.target.ID); reason != "" {
		return reason
	}
	if value, ok := d.labels[LabelEnable]; ok {
		enabled, known := sdk.ParseSwitch(value)
		switch {
		case !known:
			// Intent unclear: leaving it alone cannot make things worse.
			return fmt.Sprintf("label %s=%q is neither true nor false", LabelEnable, value)
		case !enabled:
			return fmt.Sprintf("opted out with label %s=%s", LabelEnable, value)
		}
	}
	for _, glob := range c.cfg.ProtectDependents {
		if ok, _ := path.Match(glob, d.name); ok {
			return fmt.Sprintf("protected: matches protect_dependents %q", glob)
		}
	}
	if pattern, ok := c.policy.protects(d.name); ok {
		return fmt.Sprintf("protected: matches the host's protected %q", pattern)
	}
	return ""
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
