package dockerresponder

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/hemostat/hemostat/sdk"
)

// Compose labels that group a service's containers.
const (
	LabelComposeProject = "com.docker.compose.project"
	LabelComposeService = "com.docker.compose.service"
)

// cleanup removes the exited containers of the target's compose project
// and service: the debris of earlier crashes and one-off runs. It never
// removes a running container (the engine refuses to without force, which
// is never used), nor the target itself.
func cleanup(ctx context.Context, c *call) sdk.Result {
	var labels map[string]string
	if c.target.Config != nil {
		labels = c.target.Config.Labels
	}
	project, service := labels[LabelComposeProject], labels[LabelComposeService]
	if project == "" || service == "" {
		return notApplicable(fmt.Sprintf("%s has no %s and %s labels: cleanup only touches containers of the same compose service",
			c.name, LabelComposeProject, LabelComposeService))
	}
	list, err := c.cli.ContainerList(ctx, container.ListOptions{
		All: true,
		Filters: filters.NewArgs(
			filters.Arg("label", LabelComposeProject+"="+project),
			filters.Arg("label", LabelComposeService+"="+service),
			filters.Arg("status", string(container.StateExited)),
		),
	})
	if err != nil {
		return c.failure(ctx, "list the containers of the compose service of", err)
	}
	var victims []container.Summary
	for _, s := range list {
		// The engine filtered already; checking again costs nothing and
		// keeps a filter mistake from removing the wrong container.
		if s.ID == c.target.ID || s.State != container.StateExited ||
			s.Labels[LabelComposeProject] != project || s.Labels[LabelComposeService] != service {
			continue
		}
		victims = append(victims, s)
	}
	if len(victims) == 0 {
		return notApplicable(fmt.Sprintf("no exited containers in compose service %s/%s besides %s", project, service, c.name))
	}
	names := make([]string, len(victims))
	for i, v := range victims {
		names[i] = summaryName(v)
	}
	if c.req.DryRun {
		what := "remove " + strings.Join(names, ", ")
		if c.cfg.CleanupVolumes {
			what += " and their anonymous volumes"
		}
		return dryRun("%s", what)
	}

	var removed, problems []string
	for i, v := range victims {
		err := c.cli.ContainerRemove(ctx, v.ID, container.RemoveOptions{RemoveVolumes: c.cfg.CleanupVolumes})
		switch {
		case err == nil:
			removed = append(removed, names[i])
		case isGone(err):
			// Someone else removed it first: the goal is met.
		default:
			problems = append(problems, fmt.Sprintf("%s: %v", names[i], err))
		}
	}
	res := succeeded()
	if len(problems) > 0 {
		res = failed("could not remove " + strings.Join(problems, "; "))
	}
	res = withDetail(res, "removed", strings.Join(removed, ","))
	res = withDetail(res, "removed_count", strconv.Itoa(len(removed)))
	return withDetail(res, "volumes_removed", strconv.FormatBool(c.cfg.CleanupVolumes))
}
