package dockerresponder

import (
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/hemostat/hemostat/sdk"
)

func TestUpdateResourcesRaisesUpToTheCap(t *testing.T) {
	t.Parallel()
	d := newDockerTest(t)
	const mib = 1 << 20
	r := d.responder(map[string]any{"max_memory": "80m", "max_cpus": 1})
	name := d.sickapp("app", container.Config{}, container.HostConfig{Resources: container.Resources{Memory: 64 * mib, NanoCPUs: 5e8}})
	swapAllowance := d.inspect(name).HostConfig.MemorySwap - 64*mib

	steps := []struct {
		status        string
		memory, nanos int64
	}{
		{sdk.StatusSuccess, 80 * mib, 75e7},      // memory ×1.5 capped at 80m; CPUs 0.5 → 0.75
		{sdk.StatusSuccess, 80 * mib, 1e9},       // memory at its cap; CPUs capped at 1
		{sdk.StatusNotApplicable, 80 * mib, 1e9}, // both at their caps
	}
	for i, s := range steps {
		res := d.remediate(r, sdk.RemediateRequest{Container: name, Action: sdk.ActionUpdateResources})
		if res.Status != s.status {
			t.Fatalf("step %d: %s %q, want %s", i, res.Status, res.Error, s.status)
		}
		hc := d.inspect(name).HostConfig
		if hc.Memory != s.memory || hc.NanoCPUs != s.nanos {
			t.Errorf("step %d: memory %d, nano CPUs %d; want %d, %d", i, hc.Memory, hc.NanoCPUs, s.memory, s.nanos)
		}
		if swapAllowance > 0 && hc.MemorySwap-hc.Memory != swapAllowance {
			t.Errorf("step %d: swap allowance %d, want %d kept", i, hc.MemorySwap-hc.Memory, swapAllowance)
		}
	}
	if got := describeState(d.inspect(name)); got != "running" {
		t.Errorf("container %s after raising its limits, want running", got)
	}
}

func TestUpdateResourcesWithoutLimits(t *testing.T) {
	t.Parallel()
	d := newDockerTest(t)
	r := d.responder(nil)
	name := d.sickapp("app", container.Config{}, container.HostConfig{})
	res := d.remediate(r, sdk.RemediateRequest{Container: name, Action: sdk.ActionUpdateResources})
	wantStatus(t, res, sdk.StatusNotApplicable, "no memory limit set; no CPU limit set")
	res = d.remediate(r, sdk.RemediateRequest{Container: name, Action: sdk.ActionUpdateResources, Params: map[string]string{ParamResource: "disk"}})
	wantStatus(t, res, sdk.StatusRejected, "resource")
}
