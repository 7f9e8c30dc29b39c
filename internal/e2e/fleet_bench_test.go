package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/bus"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/fleetsim"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/hemostat/hemostat/sdk"
)

// fleetDaemon is one host's hemostatd in the fleet benchmark: the monitor
// is outside it (the benchmark speaks as each host's monitor, 100
// containers per host would be too heavy as real containers on a shared
// 2-core machine), the analyzer is the built-in threshold one, and neither
// responder nor alert run: the figure is alert → decision.
const fleetDaemon = `
host  = "{{host}}"
fleet = {{fleet}}
redis { address = "{{redis}}" }
http  { address = "{{http}}" }
monitor   { enabled = false }
responder { enabled = false }
alert     { enabled = false }
analyzer {
  plugin "threshold" {}
}
`

const (
	fleetContainers = 100
	fleetSampleRate = fleetContainers / 5 // a sample per container every 5 s
	fleetAlertRate  = 2                   // alerts per host per second
	fleetWarmUp     = 5 * time.Second
	fleetMeasure    = 30 * time.Second
)

// BenchmarkFleet3x100 measures three hosts' hemostatd of 100 containers
// each on one redis-server, against the same run's baseline of one host
// alone: Redis's commands/s and CPU, each hemostatd's CPU and RSS (its
// plugin subprocesses included), and alert → first decision p50/p99 over
// the fleet, with how many decisions each alert got. "fleet" runs them
// with fleet = true, each judging its own host's alerts; "shared" with
// fleet = false, as daemons sharing a Redis did before fleets: every one
// judges every alert. Run it alone:
//
//	go test -run '^$' -bench Fleet3x100 -benchtime 1x -timeout 40m ./internal/e2e
func BenchmarkFleet3x100(b *testing.B) {
	for _, fleet := range []bool{true, false} {
		name := "fleet"
		if !fleet {
			name = "shared"
		}
		b.Run(name, func(b *testing.B) { benchFleet(b, fleet) })
	}
}

func benchFleet(b *testing.B, fleet bool) {
	srv := testenv.StartRedis(b)
	start := func(host string) *daemon {
		cfg := strings.NewReplacer("{{host}}", host, "{{fleet}}", strconv.FormatBool(fleet)).Replace(fleetDaemon)
		d := startDaemon(b, srv, cfg)
		d.waitSubscribed(b, protocol.TypeHealthAlert)
		return d
	}
	hosts := []string{"host-a", "host-b", "host-c"}

	one := measureFleet(b, srv, []*daemon{start(hosts[0])}, hosts[:1])
	all := measureFleet(b, srv, []*daemon{one.daemons[0], start(hosts[1]), start(hosts[2])}, hosts)

	for _, r := range []fleetRun{one, all} {
		b.Logf("%d host(s): redis %.0f cmds/s, %.3f cores (%s); alert → decision p50 %s p99 %s over %d alerts, %.2f decisions per alert",
			len(r.daemons), r.redis.Commands, r.redis.CPU, r.redis.Top(5), r.p50, r.p99, r.alerts, r.decisionsPerAlert)
		for i, d := range r.procs {
			b.Logf("  hemostatd %d: %.3f cores, RSS %.1f MiB (with plugins %.1f MiB)", i+1, d.cpu, d.rss/(1<<20), d.rssAll/(1<<20))
		}
	}
	b.ReportMetric(all.redis.Commands, "redis-cmds/s")
	b.ReportMetric(all.redis.CPU, "redis-cores")
	b.ReportMetric(all.redis.CPU/one.redis.CPU, "redis-cpu-x-1-host")
	b.ReportMetric(all.redis.Commands/one.redis.Commands, "redis-cmds-x-1-host")
	var cpu, rss float64
	for _, d := range all.procs {
		cpu += d.cpu / float64(len(all.procs))
		rss += d.rss / float64(len(all.procs))
	}
	b.ReportMetric(cpu, "daemon-cores")
	b.ReportMetric(cpu/one.procs[0].cpu, "daemon-cpu-x-1-host")
	b.ReportMetric(rss/(1<<20), "daemon-rss-MiB")
	b.ReportMetric(float64(all.p50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(all.p99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(all.p50)/float64(one.p50), "p50-x-1-host")
	b.ReportMetric(float64(all.p99)/float64(one.p99), "p99-x-1-host")
	b.ReportMetric(all.decisionsPerAlert, "decisions/alert")
	if fleet && (all.decisionsPerAlert < 0.95 || all.decisionsPerAlert > 1.05) {
		b.Errorf("in a fleet each alert gets one decision, got %.2f per alert", all.decisionsPerAlert)
	}
}

type fleetRun struct {
	daemons           []*daemon
	redis             fleetsim.RedisLoad
	procs             []procUse
	p50, p99          time.Duration
	alerts            int
	decisionsPerAlert float64
}

// measureFleet speaks as the monitors of hosts (one per daemon) for a
// warm-up and then for fleetMeasure, and measures.
func measureFleet(b *testing.B, srv *testenv.RedisServer, daemons []*daemon, hosts []string) fleetRun {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), PoolSize: 64})
	defer rdb.Close()

	// Decisions, by container: the first one answers the alert.
	var mu sync.Mutex
	sent := map[string]time.Time{} // container → its open alert's time
	var lat []time.Duration
	decisions := 0
	measuring := false
	sub := rdb.Subscribe(ctx, protocol.Channel(protocol.TypeRemediationNeeded), protocol.Channel(protocol.TypeFalseAlarm))
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		b.Fatal(err)
	}
	go func() {
		for m := range sub.Channel(redis.WithChannelSize(4096)) {
			var env protocol.Envelope
			var d struct {
				Container string `json:"container"`
			}
			if json.Unmarshal([]byte(m.Payload), &env) != nil || json.Unmarshal(env.Data, &d) != nil {
				continue
			}
			now := time.Now()
			mu.Lock()
			if measuring {
				decisions++
			}
			if at, ok := sent[d.Container]; ok {
				if measuring {
					lat = append(lat, now.Sub(at))
				}
				delete(sent, d.Container)
			}
			mu.Unlock()
		}
	}()

	var wg sync.WaitGroup
	var alerts int64
	var alertsMu sync.Mutex
	for _, host := range hosts {
		hb := bus.New(rdb, bus.Options{Logger: hclog.NewNullLogger()})
		defer hb.Close(context.Background())
		wg.Add(2)
		go everyTick(ctx, &wg, fleetSampleRate, func(i int) { // samples
			name := fmt.Sprintf("%s/web-%02d", host, i%fleetContainers)
			s := sdk.Sample{Container: name, Status: "running", Time: time.Now(), CPUPct: 12.5, MemoryPct: 41.2, MemoryUsage: 220 << 20, MemoryLimit: 512 << 20}
			hb.SetStats(ctx, protocol.StatsFromSample(s))
			hb.AppendSample(ctx, s)
		})
		go everyTick(ctx, &wg, fleetAlertRate, func(i int) { // incidents: each container in turn exits
			name := fmt.Sprintf("%s/web-%02d", host, i%fleetContainers)
			mu.Lock()
			sent[name] = time.Now()
			m := measuring
			mu.Unlock()
			_, err := hb.Publish(ctx, protocol.AgentMonitor, protocol.TypeHealthAlert, map[string]any{
				"container": name, "host": host, "issues": []string{protocol.IssueExited(137)},
				"metrics": map[string]any{"name": name, "status": "exited", "cpu_pct": 0.0, "memory_pct": 0.0, "timestamp": time.Now().UTC().Format(protocol.StatsTimestampFormat)},
			})
			if err != nil && ctx.Err() == nil {
				b.Errorf("publish: %v", err)
			}
			if m {
				alertsMu.Lock()
				alerts++
				alertsMu.Unlock()
			}
		})
	}

	time.Sleep(fleetWarmUp)
	meter, err := fleetsim.StartMeter(ctx, []string{srv.Addr()})
	if err != nil {
		b.Fatal(err)
	}
	before := make([]procUse, len(daemons))
	for i, d := range daemons {
		before[i] = readProc(b, d.PID())
	}
	mu.Lock()
	measuring = true
	mu.Unlock()
	t0 := time.Now()
	time.Sleep(fleetMeasure)
	mu.Lock()
	measuring = false
	mu.Unlock()
	elapsed := time.Since(t0).Seconds()
	run := fleetRun{daemons: daemons}
	if run.redis, err = meter.Stop(ctx); err != nil {
		b.Fatal(err)
	}
	for i, d := range daemons {
		after := readProc(b, d.PID())
		run.procs = append(run.procs, procUse{cpu: (after.cpuSec - before[i].cpuSec) / elapsed, rss: after.rss, rssAll: after.rssAll})
	}
	cancel()
	wg.Wait()
	// A decision in flight when the window closed is not counted.
	time.Sleep(time.Second)
	mu.Lock()
	defer mu.Unlock()
	alertsMu.Lock()
	run.alerts = int(alerts)
	alertsMu.Unlock()
	if len(lat) < run.alerts*9/10 {
		b.Fatalf("%d decisions answered %d alerts: hemostatd fell behind or dropped them", len(lat), run.alerts)
	}
	run.p50, run.p99 = percentile(lat, 50), percentile(lat, 99)
	run.decisionsPerAlert = float64(decisions) / float64(run.alerts)
	return run
}

// procUse is a process's CPU (cumulative seconds, or cores over a
// measurement) and resident memory, alone and with its children.
type procUse struct {
	cpuSec, cpu float64
	rss, rssAll float64
}

// readProc reads /proc for pid and its children (hemostatd's plugins).
func readProc(b *testing.B, pid int) procUse {
	var u procUse
	pids := []int{pid}
	// Each thread lists the children it started; Go starts them from any.
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, t := range tasks {
		raw, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(raw)) {
			if c, err := strconv.Atoi(f); err == nil {
				pids = append(pids, c)
			}
		}
	}
	for i, p := range pids {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			if i == 0 {
				b.Fatalf("hemostatd %d: %v", pid, err)
			}
			continue
		}
		// Fields after the command's closing parenthesis: utime and
		// stime are the 12th and 13th, rss (pages) the 22nd.
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
		ut, _ := strconv.ParseFloat(f[11], 64)
		st, _ := strconv.ParseFloat(f[12], 64)
		pages, _ := strconv.ParseFloat(f[21], 64)
		u.cpuSec += (ut + st) / 100 // USER_HZ
		rss := pages * float64(os.Getpagesize())
		u.rssAll += rss
		if i == 0 {
			u.rss = rss
		}
	}
	return u
}

// everyTick calls do rate times a second, with the call's number, until
// ctx ends, then marks wg done.
func everyTick(ctx context.Context, wg *sync.WaitGroup, rate int, do func(i int)) {
	defer wg.Done()
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		do(i)
	}
}
