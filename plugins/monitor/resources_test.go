package monitor

import (
	"context"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/hemostat/hemostat/sdk"
)

// engineSamplers returns a cgroup and an API sampler for the local engine.
func engineSamplers(t *testing.T, cli *client.Client) (*cgroupSampler, *apiSampler) {
	t.Helper()
	info, err := cli.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return newCgroupSampler(DefaultCgroupRoot, "/proc", info.CgroupDriver), newAPISampler(cli, engineCallTimeout, DefaultInterval+statsGrace)
}

// TestSamplersAgree checks both samplers against a container burning one
// core and one holding memory under a limit: each must see about one
// core, and they must agree with each other.
func TestSamplersAgree(t *testing.T) {
	cli := testenv.Docker(t)
	const limit = 64 << 20
	_, hog := runSickapp(t, cli, container.Config{}, nil, "--cpu", "1")
	_, mem := runSickapp(t, cli, container.Config{},
		&container.HostConfig{Resources: container.Resources{Memory: limit, MemorySwap: limit}}, "--alloc-mb", "32")
	cg, api := engineSamplers(t, cli)
	ctx := context.Background()
	time.Sleep(500 * time.Millisecond) // let the hog get going and the memory be touched

	read := func(s sampler, id string) reading {
		t.Helper()
		r, err := s.read(ctx, target{ID: id})
		if err != nil {
			t.Fatalf("%T.read(%s): %v", s, id[:12], err)
		}
		return r
	}
	// The reference is the kernel's own account of the hog's process in
	// /proc, read over the same window: on a loaded machine the hog gets
	// less than its core, and both samplers must say how much it got.
	pid := hogPID(t, cli, hog)
	cg0, api0, ref0 := read(cg, hog), read(api, hog), procCPUSeconds(t, pid)
	start := time.Now()
	time.Sleep(3 * time.Second)
	cg1, api1, ref1 := read(cg, hog), read(api, hog), procCPUSeconds(t, pid)
	refCPU := 100 * (ref1 - ref0) / time.Since(start).Seconds()
	cgCPU, apiCPU := cpuPercent(cg0, cg1), cpuPercent(api0, api1)
	t.Logf("CPU hog: cgroup %.1f%%, API %.1f%%, /proc %.1f%%", cgCPU, apiCPU, refCPU)
	if refCPU < 20 {
		t.Fatalf("the hog got %.1f%% of a core by /proc; the machine is too busy to judge the samplers", refCPU)
	}
	for name, v := range map[string]float64{"cgroup": cgCPU, "api": apiCPU} {
		if math.Abs(v-refCPU) > 15 {
			t.Errorf("%s sampler: CPU hog at %.1f%%, want the %.1f%% /proc counts ± 15", name, v, refCPU)
		}
	}
	if hogMem := read(cg, hog); !hogMem.limitIsHost || hogMem.memLimit == 0 {
		t.Errorf("cgroup sampler, no limit: %+v, want the host's memory as limit", hogMem)
	}
	if hogMem := read(api, hog); !hogMem.limitIsHost || hogMem.memLimit == 0 {
		t.Errorf("API sampler, no limit: %+v, want the host's memory as limit", hogMem)
	}

	cgMem, apiMem := read(cg, mem), read(api, mem)
	t.Logf("32 MiB of 64 MiB: cgroup %.1f%%, API %.1f%%", cgMem.memoryPercent(), apiMem.memoryPercent())
	for name, r := range map[string]reading{"cgroup": cgMem, "api": apiMem} {
		if r.memLimit != limit || r.limitIsHost {
			t.Errorf("%s sampler: limit %d (host %v), want %d", name, r.memLimit, r.limitIsHost, limit)
		}
		if p := r.memoryPercent(); p < 48 || p > 70 {
			t.Errorf("%s sampler: memory %.1f%%, want 32 MiB of 64 MiB plus the runtime, 48–70%%", name, p)
		}
	}
	if d := math.Abs(cgMem.memoryPercent() - apiMem.memoryPercent()); d > 3 {
		t.Errorf("samplers disagree on memory by %.1f points", d)
	}
}

// TestResourceSamples runs Watch with each sampler and checks what reaches
// the host.
func TestResourceSamples(t *testing.T) {
	cli := testenv.Docker(t)
	const limit = 64 << 20
	hog, _ := runSickapp(t, cli, container.Config{}, nil, "--cpu", "1")
	mem, _ := runSickapp(t, cli, container.Config{Labels: map[string]string{"hemostat.memory_pct": "40"}},
		&container.HostConfig{Resources: container.Resources{Memory: limit, MemorySwap: limit}}, "--alloc-mb", "32")
	stopped, stoppedID := runSickapp(t, cli, container.Config{}, nil, "--exit", "0")
	waitExited(t, cli, stoppedID)
	resource := func(s sdk.Sample) bool { return s.Event == "" && s.CPUPct+s.MemoryPct > 0 }

	for _, smp := range []string{SamplerCgroup, SamplerAPI, SamplerAuto} {
		t.Run(smp, func(t *testing.T) {
			rec := startMonitor(t, map[string]any{"sampler": smp, "interval": "1s"})
			h := rec.waitFor(t, hog, eventTimeout, "resource", func(s sdk.Sample) bool { return resource(s) && s.CPUPct > 50 })
			if !h.MemoryLimitIsHost || h.MemoryLimit == 0 || h.Status != "running" || h.StartedAt.IsZero() {
				t.Errorf("hog sample = %+v, want running, the host's memory as limit", h)
			}
			m := rec.waitFor(t, mem, eventTimeout, "resource", resource)
			if m.MemoryLimitIsHost || m.MemoryLimit != limit || m.MemoryPct < 48 || m.MemoryPct > 70 {
				t.Errorf("memory sample = %+v, want about half of a 64 MiB limit", m)
			}
			if m.MemoryUsage == 0 || m.Labels["hemostat.memory_pct"] != "40" {
				t.Errorf("memory sample = %+v, want usage in bytes and the container's labels", m)
			}
			for _, s := range rec.all(stopped) {
				if s.CPUPct != 0 || s.MemoryPct != 0 || s.Status != "exited" {
					t.Errorf("stopped container got a resource sample: %+v", s)
				}
			}
		})
	}
}

// hogPID is the host PID of the container's process.
func hogPID(t *testing.T, cli *client.Client, id string) int {
	t.Helper()
	c, err := cli.ContainerInspect(context.Background(), id)
	if err != nil || c.State == nil || c.State.Pid == 0 {
		t.Fatalf("inspect %s: %v (state %+v)", id[:12], err, c.State)
	}
	return c.State.Pid
}

// procCPUSeconds is the CPU time, user and system, of every thread of
// process pid, from /proc/<pid>/stat (fields 14 and 15, in clock ticks of
// 1/100 s on Linux).
func procCPUSeconds(t *testing.T, pid int) float64 {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatalf("read the hog's stat: %v", err)
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	fields := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
	utime, err1 := strconv.ParseFloat(fields[11], 64)
	stime, err2 := strconv.ParseFloat(fields[12], 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("parse the hog's stat %q: %v, %v", raw, err1, err2)
	}
	return (utime + stime) / 100
}
