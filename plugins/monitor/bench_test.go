package monitor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/hemostat/hemostat/sdk"
)

// BenchmarkSampleCgroup reads one idle container's counters from its
// cgroup files.
func BenchmarkSampleCgroup(b *testing.B) {
	benchmarkSampler(b, func(cg *cgroupSampler, _ *apiSampler) sampler { return cg })
}

// BenchmarkSampleAPI reads them through the Engine API's one-shot stats.
func BenchmarkSampleAPI(b *testing.B) {
	benchmarkSampler(b, func(_ *cgroupSampler, api *apiSampler) sampler { return api })
}

func benchmarkSampler(b *testing.B, pick func(*cgroupSampler, *apiSampler) sampler) {
	cli := testenv.Docker(b)
	id := benchContainer(b, cli)
	cg, api := benchSamplers(b, cli)
	smp := pick(cg, api)
	dockerd := dockerdPID(b)
	ctx := context.Background()
	cpu0 := processCPU(b, dockerd)
	for b.Loop() {
		if _, err := smp.read(ctx, target{ID: id}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(processCPU(b, dockerd)-cpu0)/float64(time.Millisecond)/float64(b.N), "dockerd-cpu-ms/op")
}

// BenchmarkSamplerRatio times both samplers in the same run, alternating,
// and reports how many times dearer the API path is.
func BenchmarkSamplerRatio(b *testing.B) {
	cli := testenv.Docker(b)
	id := benchContainer(b, cli)
	cg, api := benchSamplers(b, cli)
	ctx := context.Background()
	var cgTime, apiTime time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := cg.read(ctx, target{ID: id}); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := api.read(ctx, target{ID: id}); err != nil {
			b.Fatal(err)
		}
		cgTime += t1.Sub(t0)
		apiTime += time.Since(t1)
	}
	b.ReportMetric(float64(cgTime.Microseconds())/float64(b.N), "cgroup-µs/op")
	b.ReportMetric(float64(apiTime.Microseconds())/float64(b.N), "api-µs/op")
	b.ReportMetric(float64(apiTime)/float64(cgTime), "api/cgroup")
}

// BenchmarkEventLatency measures the time from the engine's event
// (timeNano) to the plugin's emit (Sample.Time) for die, oom and
// health_status, restarting one container per kind each iteration. Run it
// with -benchtime 20x or so; p50 and p99 are reported.
func BenchmarkEventLatency(b *testing.B) {
	cli := testenv.Docker(b)
	const limit = 32 << 20
	cases := []struct {
		name    string
		logTail int
		action  string
		match   func(sdk.Sample) bool
		cfg     container.Config
		host    container.HostConfig
		args    []string
	}{
		// The container lives a little, as a real one does, so that the
		// measure is of the die alone and not of a start still in hand.
		{name: "die", logTail: 20, action: "die", match: event(sdk.EventDie), args: []string{"--log", "x", "--exit", "1", "--after", "300ms"}},
		{name: "die-no-log-tail", logTail: 0, action: "die", match: event(sdk.EventDie), args: []string{"--exit", "1", "--after", "300ms"}},
		{
			name: "oom", logTail: 20, action: "oom", match: event(sdk.EventOOM),
			host: container.HostConfig{Resources: container.Resources{Memory: limit, MemorySwap: limit}},
			// Growing for a moment rather than all at once leaves the
			// runtime time to watch the cgroup for OOM kills; an OOM in
			// the first milliseconds of a container has no event.
			args: []string{"--mem-mb-per-sec", "256"},
		},
		{
			name: "health_status", logTail: 20, action: "health_status: unhealthy",
			match: func(s sdk.Sample) bool { return s.Event == sdk.EventHealthStatus && s.Health == sdk.HealthUnhealthy },
			cfg: container.Config{Healthcheck: &container.HealthConfig{
				Test: []string{"CMD", "/sickapp", "health"}, Interval: 100 * time.Millisecond, Timeout: time.Second, Retries: 1,
			}},
			args: []string{"--unhealthy-after", "10ms"},
		},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			rec := startBenchMonitor(b, map[string]any{"log_tail_lines": tc.logTail, "interval": "1h"})
			cfg := tc.cfg
			cfg.Image = testenv.TestImage(b)
			cfg.Cmd = tc.args
			name := fmt.Sprintf("hm-bench-%s-%d", tc.name, time.Now().UnixNano()%1e9)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			// Since makes the engine replay what happened before the
			// subscription, which is established asynchronously.
			engine, errs := cli.Events(ctx, events.ListOptions{Since: unixNano(time.Now()), Filters: filters.NewArgs(
				filters.Arg("type", "container"), filters.Arg("container", name), filters.Arg("event", strings.Split(tc.action, ":")[0]))})
			id := testenv.RunContainer(b, cli, name, &cfg, &tc.host)

			var lat []time.Duration
			for i := 0; b.Loop(); i++ {
				if i > 0 {
					if tc.action == "die" || tc.action == "oom" {
						waitNotRunning(b, cli, id)
					}
					zero := 0
					if err := cli.ContainerRestart(ctx, id, container.StopOptions{Timeout: &zero}); err != nil {
						b.Fatal(err)
					}
				}
				var at time.Time
				for at.IsZero() {
					select {
					case m := <-engine:
						if string(m.Action) == tc.action {
							at = time.Unix(0, m.TimeNano)
						}
					case err := <-errs:
						b.Fatal(err)
					case <-time.After(30 * time.Second):
						b.Fatalf("no %s event from the engine", tc.action)
					}
				}
				s := rec.next(b, name, tc.match)
				lat = append(lat, s.Time.Sub(at))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(percentile(lat, 50).Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(percentile(lat, 99).Microseconds())/1000, "p99-ms")
		})
	}
}

// BenchmarkMonitorIdle measures what the monitor costs with 10, 50 and 100
// idle containers and the default 5 s interval, cgroup against API path:
// its own CPU time and memory, and the engine's CPU time, over three
// intervals. Run it once: go test -run XXX -bench BenchmarkMonitorIdle
// -benchtime 1x. The monitor runs opt_in so that containers of other tests
// on the same engine are not counted; dockerd's CPU is the whole engine's,
// theirs included.
func BenchmarkMonitorIdle(b *testing.B) {
	cli := testenv.Docker(b)
	image := testenv.TestImage(b)
	dockerd := dockerdPID(b)
	const window = 15 * time.Second
	started := 0
	for _, n := range []int{10, 50, 100} {
		for ; started < n; started++ {
			name := fmt.Sprintf("hm-idle-%d-%03d", time.Now().UnixNano()%1e6, started)
			testenv.RunContainer(b, cli, name, &container.Config{
				Image: image, Cmd: []string{"--idle"}, Labels: map[string]string{LabelEnable: "true"},
			}, nil)
		}
		for _, smp := range []string{SamplerCgroup, SamplerAPI} {
			b.Run(fmt.Sprintf("containers=%d/sampler=%s", n, smp), func(b *testing.B) {
				for b.Loop() {
					rec := startBenchMonitor(b, map[string]any{"sampler": smp, "interval": "5s", "scope": ScopeOptIn})
					time.Sleep(time.Second) // past the initial report and priming pass
					self0, d0, wall0 := selfCPU(b), processCPU(b, dockerd), time.Now()
					n0 := rec.count()
					time.Sleep(window)
					self1, d1, wall := selfCPU(b), processCPU(b, dockerd), time.Since(wall0)
					perSec := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) / wall.Seconds() }
					b.ReportMetric(perSec(self1-self0), "monitor-cpu-ms/s")
					b.ReportMetric(perSec(d1-d0), "dockerd-cpu-ms/s")
					b.ReportMetric(float64(rssBytes(b))/(1<<20), "rss-MiB")
					// n/5 per second when every pass fits in the interval.
					b.ReportMetric(float64(rec.count()-n0)/wall.Seconds(), "samples/s")
					rec.stop()
				}
			})
		}
	}
}

// benchRecorder is a recorder with a way to stop its Watch early.
type benchRecorder struct {
	*recorder
	stop func()
}

func (r *benchRecorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.samples)
}

// next returns the first sample of name matching match that was not
// returned before, consuming it.
func (r *benchRecorder) next(b *testing.B, name string, match func(sdk.Sample) bool) sdk.Sample {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		for i, s := range r.samples {
			if s.Container == name && match(s) {
				r.samples = slices.Delete(r.samples, i, i+1)
				r.mu.Unlock()
				return s
			}
		}
		r.mu.Unlock()
		select {
		case <-r.notify:
		case <-time.After(100 * time.Millisecond):
		}
	}
	b.Fatalf("no matching sample for %s", name)
	return sdk.Sample{}
}

func startBenchMonitor(b *testing.B, cfg map[string]any) *benchRecorder {
	b.Helper()
	rec, stop := runMonitor(b, cfg, hclogNull())
	return &benchRecorder{recorder: rec, stop: stop}
}

func benchContainer(b *testing.B, cli *client.Client) string {
	b.Helper()
	name := fmt.Sprintf("hm-bench-sample-%d", time.Now().UnixNano()%1e9)
	return testenv.RunContainer(b, cli, name, &container.Config{Image: testenv.TestImage(b), Cmd: []string{"--idle"}}, nil)
}

func benchSamplers(b *testing.B, cli *client.Client) (*cgroupSampler, *apiSampler) {
	info, err := cli.Info(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return newCgroupSampler(DefaultCgroupRoot, "/proc", info.CgroupDriver), newAPISampler(cli, engineCallTimeout, DefaultInterval+statsGrace)
}

func waitNotRunning(b *testing.B, cli *client.Client, id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	waitC, errC := cli.ContainerWait(ctx, id, container.WaitConditionNotRunning)
	select {
	case <-waitC:
	case err := <-errC:
		b.Fatal(err)
	}
}

func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100
	return sorted[max(0, min(i, len(sorted))-1)]
}

// dockerdPID finds the engine's process, to charge it the API sampler's
// cost.
func dockerdPID(b *testing.B) int {
	b.Helper()
	dirs, _ := filepath.Glob("/proc/[0-9]*/comm")
	for _, f := range dirs {
		comm, err := os.ReadFile(f)
		if err == nil && strings.TrimSpace(string(comm)) == "dockerd" {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
			return pid
		}
	}
	b.Fatal("no dockerd process visible; the benchmarks measure a local engine")
	return 0
}

// processCPU returns a process's user+system CPU time from /proc/<pid>/stat.
func processCPU(b *testing.B, pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the parenthesised command name; utime and stime are
	// the 14th and 15th fields of the whole line.
	rest := string(data[strings.LastIndexByte(string(data), ')')+2:])
	f := strings.Fields(rest)
	utime, _ := strconv.ParseUint(f[11], 10, 64)
	stime, _ := strconv.ParseUint(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / clockTicksPerSecond
}

func selfCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func rssBytes(b *testing.B) uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.Fields(rest)[0], 10, 64)
			return kb * 1024
		}
	}
	return 0
}
