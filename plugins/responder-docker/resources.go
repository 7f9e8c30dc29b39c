package dockerresponder

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/hemostat/hemostat/sdk"
)

// ParamResource limits update_resources to "memory" or "cpu"; without it
// both limits are raised.
const ParamResource = "resource"

// defaultCPUPeriod is the CFS period the kernel uses when a container sets
// a quota without one, in microseconds.
const defaultCPUPeriod = 100_000

// hostLimits are the engine host's totals, the caps when max_memory or
// max_cpus is zero.
type hostLimits struct {
	memory int64
	cpus   int
}

// resourcePlan is the outcome of planning an update_resources: the new
// limits, a line per change, and why a limit stays as it is.
type resourcePlan struct {
	update  container.Resources
	changes []string
	details map[string]string
	notes   []string
}

// updateResources raises the memory limit (and memory+swap with it) and the
// CPU quota by resource_factor, up to max_memory and max_cpus.
func updateResources(ctx context.Context, c *call) sdk.Result {
	which := c.req.Params[ParamResource]
	if which != "" && which != "memory" && which != "cpu" {
		return rejected(fmt.Sprintf("parameter %s=%q: want \"memory\" or \"cpu\" (or none for both)", ParamResource, which))
	}
	var host hostLimits
	if c.cfg.MaxMemory == 0 || c.cfg.MaxCPUs == 0 {
		info, err := c.cli.Info(ctx)
		if err != nil {
			return c.failure(ctx, "read the engine's host limits for", err)
		}
		host = hostLimits{memory: info.MemTotal, cpus: info.NCPU}
	}
	plan := planResources(c.target.HostConfig.Resources, c.cfg, host, which)
	if len(plan.changes) == 0 {
		return notApplicable(fmt.Sprintf("nothing to raise on %s: %s", c.name, strings.Join(plan.notes, "; ")))
	}
	if c.req.DryRun {
		res := dryRun("raise %s on %s", strings.Join(plan.changes, " and "), c.name)
		for k, v := range plan.details {
			res = withDetail(res, k, v)
		}
		return res
	}
	if _, err := c.cli.ContainerUpdate(ctx, c.target.ID, container.UpdateConfig{Resources: plan.update}); err != nil {
		return c.failure(ctx, "update resources of", err)
	}
	res := succeeded()
	res.Details = plan.details
	if len(plan.notes) > 0 {
		res = withDetail(res, "note", strings.Join(plan.notes, "; "))
	}
	return res
}

// planResources computes the raised limits. A container without a limit
// has none raised: it is bounded by the host already.
func planResources(cur container.Resources, cfg Config, host hostLimits, which string) resourcePlan {
	p := resourcePlan{details: map[string]string{}}
	if which == "" || which == "memory" {
		p.planMemory(cur, cfg, host)
	}
	if which == "" || which == "cpu" {
		p.planCPU(cur, cfg, host)
	}
	return p
}

func (p *resourcePlan) planMemory(cur container.Resources, cfg Config, host hostLimits) {
	if cur.Memory <= 0 {
		p.notes = append(p.notes, "no memory limit set")
		return
	}
	limit := int64(cfg.MaxMemory)
	if limit == 0 {
		limit = host.memory
	}
	want := int64(float64(cur.Memory) * cfg.ResourceFactor)
	if limit > 0 && want > limit {
		want = limit
	}
	if want <= cur.Memory {
		p.notes = append(p.notes, fmt.Sprintf("memory limit %s is already at the cap %s", ByteSize(cur.Memory), ByteSize(limit)))
		return
	}
	p.update.Memory = want
	if cur.MemorySwap > 0 {
		// Keep the swap allowance: memory-swap is memory plus swap, and
		// the engine refuses a memory limit above it.
		p.update.MemorySwap = want + (cur.MemorySwap - cur.Memory)
	}
	p.changes = append(p.changes, fmt.Sprintf("memory limit %s → %s", ByteSize(cur.Memory), ByteSize(want)))
	p.details["memory_before"] = strconv.FormatInt(cur.Memory, 10)
	p.details["memory_after"] = strconv.FormatInt(want, 10)
}

func (p *resourcePlan) planCPU(cur container.Resources, cfg Config, host hostLimits) {
	maxCPUs := cfg.MaxCPUs
	if maxCPUs == 0 {
		maxCPUs = float64(host.cpus)
	}
	var before, after float64
	switch {
	case cur.NanoCPUs > 0:
		want := int64(float64(cur.NanoCPUs) * cfg.ResourceFactor)
		if limit := int64(maxCPUs * 1e9); limit > 0 && want > limit {
			want = limit
		}
		if want > cur.NanoCPUs {
			p.update.NanoCPUs = want
		}
		before, after = float64(cur.NanoCPUs)/1e9, float64(want)/1e9
	case cur.CPUQuota > 0:
		period := cur.CPUPeriod
		if period == 0 {
			period = defaultCPUPeriod
		}
		want := int64(float64(cur.CPUQuota) * cfg.ResourceFactor)
		if limit := int64(maxCPUs * float64(period)); limit > 0 && want > limit {
			want = limit
		}
		if want > cur.CPUQuota {
			p.update.CPUQuota = want
		}
		before, after = float64(cur.CPUQuota)/float64(period), float64(want)/float64(period)
	default:
		p.notes = append(p.notes, "no CPU limit set")
		return
	}
	if after <= before {
		p.notes = append(p.notes, fmt.Sprintf("CPU limit %s is already at the cap %s", cpus(before), cpus(maxCPUs)))
		return
	}
	p.changes = append(p.changes, fmt.Sprintf("CPU limit %s → %s", cpus(before), cpus(after)))
	p.details["cpus_before"] = cpus(before)
	p.details["cpus_after"] = cpus(after)
}

// cpus formats a CPU count: "1.5", "2".
func cpus(n float64) string { return strconv.FormatFloat(math.Round(n*1000)/1000, 'f', -1, 64) }
