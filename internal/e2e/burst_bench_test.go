package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/testenv"
)

// relayPrefix keeps the Python relay's channels apart from hemostatd's, so
// both can stay subscribed to one redis-server while the other is timed.
const relayPrefix = "bench:"

// burstStall ends a burst that stopped making progress: what is missing
// by then is reported as unanswered.
const burstStall = 30 * time.Second

// BenchmarkBurst publishes a burst of health alerts for distinct
// containers at once (pipelined PUBLISHes) and times until each has its
// decision: hemostatd with the threshold analyzer as a real plugin
// subprocess, against a do-nothing Python relay (testdata/relay.py) on the
// same redis-server in the same run. It reports answered/sent, both rates,
// their ratio, the peak RSS of hemostatd and its plugins summed, and the
// CPU each alert cost hemostatd, its plugins, Redis and the benchmark
// itself: on a machine of few cores they share, what one takes the
// others lose.
func BenchmarkBurst(b *testing.B) {
	srv := testenv.StartRedis(b)
	profDir, cfg := burstProfileDir(b, analyzerOnly)
	d := startDaemon(b, srv, cfg)
	startRelay(b, srv)
	for _, n := range []int{5_000, 20_000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			var sent, answered, relayAnswered int
			var took, relayTook, cpu, daemonCPU, redisCPUSum, selfCPUSum time.Duration
			var anonPeak atomic.Int64
			run := 0
			for b.Loop() {
				run++
				tag := fmt.Sprintf("%d-%d-%d", n, run, time.Now().UnixNano())
				ra, rt, _ := burst(b, d.rdb, relayPrefix, "relay-"+tag, n)
				stopSampling := sampleAnonRSS(b, d, &anonPeak)
				before, daemonBefore := cpuTime(b, d), cpuTimeOf(b, d.PID())
				redisBefore := redisCPU(b, d.rdb)
				var profiled <-chan struct{}
				if profDir != "" {
					profiled = profileCPU(b, d, profDir, fmt.Sprintf("hemostatd-%d-%d", n, run), 5+n/1000)
				}
				ha, ht, harness := burst(b, d.rdb, protocol.Prefix, "hemo-"+tag, n)
				cpu += cpuTime(b, d) - before
				daemonCPU += cpuTimeOf(b, d.PID()) - daemonBefore
				redisCPUSum += redisCPU(b, d.rdb) - redisBefore
				selfCPUSum += harness
				stopSampling()
				if profiled != nil {
					<-profiled
				}
				sent += n
				answered += ha
				relayAnswered += ra
				took += ht
				relayTook += rt
			}
			rate := float64(answered) / took.Seconds()
			relayRate := float64(relayAnswered) / relayTook.Seconds()
			b.ReportMetric(float64(answered)/float64(sent), "answered/sent")
			b.ReportMetric(float64(relayAnswered)/float64(sent), "relay-answered/sent")
			b.ReportMetric(rate, "decisions/s")
			b.ReportMetric(relayRate, "relay-decisions/s")
			b.ReportMetric(rate/relayRate, "x-relay")
			b.ReportMetric(float64(peakRSS(b, d))/(1<<20), "peak-RSS-MiB")
			b.ReportMetric(float64(peakRSSOf(b, d.PID()))/(1<<20), "hemostatd-peak-RSS-MiB")
			b.ReportMetric(float64(anonPeak.Load())/(1<<20), "peak-anon-RSS-MiB")
			b.ReportMetric(float64(cpu.Microseconds())/float64(sent), "cpu-µs/alert")
			b.ReportMetric(float64(daemonCPU.Microseconds())/float64(sent), "hemostatd-cpu-µs/alert")
			b.ReportMetric(float64((cpu-daemonCPU).Microseconds())/float64(sent), "plugins-cpu-µs/alert")
			b.ReportMetric(float64(redisCPUSum.Microseconds())/float64(sent), "redis-cpu-µs/alert")
			b.ReportMetric(float64(selfCPUSum.Microseconds())/float64(sent), "bench-cpu-µs/alert")
			// The rate the machine's cores would allow, all busy, at the
			// CPU each alert cost everyone here — hemostatd, its plugins,
			// Redis and this benchmark's publisher and counter — as a
			// ratio to the relay: how far CPU alone bounds the ratio.
			perAlert := (cpu + redisCPUSum + selfCPUSum).Seconds() / float64(sent)
			b.ReportMetric(float64(runtime.NumCPU())/perAlert/relayRate, "x-relay-cpu-ceiling")
		})
	}
}

// startRelay runs testdata/relay.py until the benchmark ends.
func startRelay(b *testing.B, srv *testenv.RedisServer) {
	b.Helper()
	host, port, _ := strings.Cut(srv.Addr(), ":")
	cmd := exec.Command(python3(), "testdata/relay.py", host, port, relayPrefix)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatalf("start the Python relay (python3 with the redis module, Debian's python3-redis; scripts/bench.sh installs it): %v", err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		b.Fatalf("the Python relay did not start (python3 with the redis module, Debian's python3-redis; scripts/bench.sh installs it): %q %v", line, err)
	}
}

// python3 is the system's Python, which Debian's python3-redis serves,
// even when another one comes first on PATH.
func python3() string {
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3"
	}
	return "python3"
}

// burst publishes n alerts on prefix's health_alert channel and waits for
// a decision for each; it returns how many were answered, how long that
// took from the first PUBLISH, and the CPU this process used meanwhile.
func burst(b *testing.B, rdb *redis.Client, prefix, tag string, n int) (int, time.Duration, time.Duration) {
	b.Helper()
	ctx := context.Background()
	sub := rdb.Subscribe(ctx, prefix+protocol.TypeRemediationNeeded, prefix+protocol.TypeFalseAlarm, prefix+protocol.TypeEscalation)
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		b.Fatal(err)
	}
	payloads := make([]string, n)
	for i := range payloads {
		payloads[i] = burstAlert(b, fmt.Sprintf("%s-%d", tag, i))
	}
	answered := make(map[string]bool, n)
	done := make(chan struct{})
	var took time.Duration
	start, startCPU := time.Now(), selfCPU()
	go func() {
		defer close(done)
		last := time.Now()
		for len(answered) < n {
			msg, err := sub.ReceiveTimeout(ctx, time.Second)
			if err != nil {
				if time.Since(last) > burstStall {
					return
				}
				continue
			}
			m, ok := msg.(*redis.Message)
			if !ok {
				continue
			}
			if c := decidedContainer(m.Payload); strings.HasPrefix(c, tag+"-") {
				answered[c] = true
				last = time.Now()
				took = time.Since(start)
			}
		}
	}()
	channel := prefix + protocol.TypeHealthAlert
	for i := 0; i < n; i += 1000 {
		p := rdb.Pipeline()
		for _, payload := range payloads[i:min(i+1000, n)] {
			p.Publish(ctx, channel, payload)
		}
		if _, err := p.Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
	<-done
	harnessCPU := selfCPU() - startCPU
	if len(answered) < n {
		b.Errorf("%s: %d of %d alerts answered; no progress for %s", prefix, len(answered), n, burstStall)
	}
	return len(answered), took, harnessCPU
}

// decidedContainer is the container a decision names, found without
// decoding the envelope: the benchmark shares the cores with what it
// measures, and a full decode of every decision was a fifth of its CPU.
// The decisions' data holds the only "container" key, written by Go
// without spaces and by the Python relay with one after the colon.
func decidedContainer(payload string) string {
	_, rest, ok := strings.Cut(payload, `"container":`)
	if !ok {
		return ""
	}
	rest = strings.TrimLeft(rest, " ")
	if !strings.HasPrefix(rest, `"`) {
		return ""
	}
	name, _, ok := strings.Cut(rest[1:], `"`)
	if !ok {
		return ""
	}
	return name
}

func burstAlert(b testing.TB, container string) string {
	env, err := protocol.NewEnvelope(protocol.AgentMonitor, protocol.TypeHealthAlert, protocol.HealthAlert{
		Container: container, Issues: []string{protocol.IssueExited(1)},
		Metrics: map[string]any{"name": container, "status": "exited", "cpu_pct": 0.0, "memory_pct": 1.5, "timestamp": "2025-11-03T10:30:45"},
	}, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	raw, _ := json.Marshal(env)
	return string(raw)
}

// peakRSS sums the peak resident set (VmHWM) of hemostatd and its plugins.
func peakRSS(b testing.TB, d *daemon) int64 {
	b.Helper()
	var total int64
	for _, pid := range daemonPIDs(b, d) {
		total += peakRSSOf(b, pid)
	}
	return total
}

// peakRSSOf is one process's peak resident set (VmHWM).
func peakRSSOf(b testing.TB, pid int) int64 {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatalf("read the RSS of pid %d: %v", pid, err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// cpuTime sums the CPU time hemostatd and its plugins have used.
func cpuTime(b testing.TB, d *daemon) time.Duration {
	b.Helper()
	var total time.Duration
	for _, pid := range daemonPIDs(b, d) {
		total += cpuTimeOf(b, pid)
	}
	return total
}

// cpuTimeOf is the CPU time one process has used.
func cpuTimeOf(b testing.TB, pid int) time.Duration {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatalf("read the CPU time of pid %d: %v", pid, err)
	}
	// utime and stime, in clock ticks (100 a second on Linux), are the
	// 14th and 15th fields; the 2nd may hold spaces.
	f := strings.Fields(string(raw)[strings.LastIndexByte(string(raw), ')')+2:])
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * 10 * time.Millisecond
}

// daemonPIDs is hemostatd and its plugin processes.
func daemonPIDs(b testing.TB, d *daemon) []int {
	pids := []int{d.PID()}
	for _, p := range d.Plugins(b) {
		if p.PID > 0 {
			pids = append(pids, p.PID)
		}
	}
	return pids
}

// sampleAnonRSS samples, every 20 ms until stopped, the anonymous resident
// memory (RssAnon) of hemostatd and its plugins summed, and keeps the
// largest in peak. VmHWM counts the binary's mapped pages too, and the
// built-in plugins are hemostatd's own binary: summing their VmHWM counts
// the same file pages once per process.
func sampleAnonRSS(b testing.TB, d *daemon, peak *atomic.Int64) (stop func()) {
	pids := daemonPIDs(b, d)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			var sum int64
			for _, pid := range pids {
				raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
				if err != nil {
					continue
				}
				for _, line := range strings.Split(string(raw), "\n") {
					if rest, ok := strings.CutPrefix(line, "RssAnon:"); ok {
						kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
						sum += kb << 10
					}
				}
			}
			if sum > peak.Load() {
				peak.Store(sum)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

// redisCPU is the CPU time redis-server has used, from INFO cpu.
func redisCPU(b testing.TB, rdb *redis.Client) time.Duration {
	b.Helper()
	info, err := rdb.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatalf("redis INFO cpu: %v", err)
	}
	var total float64
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (k == "used_cpu_sys" || k == "used_cpu_user") {
			f, _ := strconv.ParseFloat(v, 64)
			total += f
		}
	}
	return time.Duration(total * float64(time.Second))
}

// selfCPU is the CPU time the benchmark's own process has used: the
// publisher and the subscriber that counts the answers.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
