package dockerresponder

import (
	"context"
	"fmt"
	"strconv"

	"github.com/docker/docker/api/types/swarm"
	"github.com/hemostat/hemostat/sdk"
)

// ParamReplicas sets the replica count of a scale; without it the service
// gains one replica.
const ParamReplicas = "replicas"

// LabelSwarmServiceID names the Swarm service a task's container belongs to.
const LabelSwarmServiceID = "com.docker.swarm.service.id"

// LabelSwarmServiceName is the service's name, used when the ID is absent.
const LabelSwarmServiceName = "com.docker.swarm.service.name"

// scale changes the replica count of the container's Swarm service. Outside
// Swarm mode there is nothing to scale: compose's scale is a client-side
// operation the engine knows nothing of.
func scale(ctx context.Context, c *call) sdk.Result {
	var labels map[string]string
	if c.target.Config != nil {
		labels = c.target.Config.Labels
	}
	service := labels[LabelSwarmServiceID]
	if service == "" {
		service = labels[LabelSwarmServiceName]
	}
	info, err := c.cli.Info(ctx)
	if err != nil {
		return c.failure(ctx, "read the engine's Swarm state for", err)
	}
	if info.Swarm.LocalNodeState != swarm.LocalNodeStateActive {
		return notApplicable(fmt.Sprintf("the engine is not in Swarm mode (node state %q): only Swarm services can be scaled", info.Swarm.LocalNodeState))
	}
	if service == "" {
		return notApplicable(fmt.Sprintf("%s is not a Swarm task (no %s label)", c.name, LabelSwarmServiceName))
	}
	svc, _, err := c.cli.ServiceInspectWithRaw(ctx, service, swarm.ServiceInspectOptions{})
	if err != nil {
		return failed(fmt.Sprintf("inspect service %s: %v", service, err))
	}
	mode := svc.Spec.Mode.Replicated
	if mode == nil || mode.Replicas == nil {
		return notApplicable(fmt.Sprintf("service %s is not replicated (global services run one task per node)", svc.Spec.Name))
	}
	current := *mode.Replicas
	want := current + 1
	if v, ok := c.req.Params[ParamReplicas]; ok {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n < 1 {
			return rejected(fmt.Sprintf("parameter %s=%q: want a whole number of at least 1", ParamReplicas, v))
		}
		want = n
	}
	if want > uint64(c.cfg.MaxReplicas) {
		return rejected(fmt.Sprintf("%d replicas of %s exceeds max_replicas %d", want, svc.Spec.Name, c.cfg.MaxReplicas))
	}
	if want == current {
		return notApplicable(fmt.Sprintf("service %s already has %d replicas", svc.Spec.Name, current))
	}
	if c.req.DryRun {
		return dryRun("scale service %s from %d to %d replicas", svc.Spec.Name, current, want)
	}
	spec := svc.Spec
	spec.Mode.Replicated.Replicas = &want
	if _, err := c.cli.ServiceUpdate(ctx, svc.ID, svc.Version, spec, swarm.ServiceUpdateOptions{}); err != nil {
		return failed(fmt.Sprintf("scale service %s: %v", svc.Spec.Name, err))
	}
	res := succeeded()
	res = withDetail(res, "service", svc.Spec.Name)
	res = withDetail(res, "replicas_before", strconv.FormatUint(current, 10))
	return withDetail(res, "replicas_after", strconv.FormatUint(want, 10))
}
