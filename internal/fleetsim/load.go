package fleetsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/bus"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/sdk"
)

// Load is what the simulated fleet does; the zero value of a field means
// its default.
type Load struct {
	// Hosts is how many Docker hosts, each with its own hemostatd.
	Hosts int
	// ContainersPerHost is how many containers each host's monitor
	// samples. Default 20.
	ContainersPerHost int
	// SampleEvery is the monitor's interval. Default 5 s, the monitor's.
	SampleEvery time.Duration
	// IncidentsPerHostHour is how many incidents each host has per hour;
	// each publishes health_alert, remediation_needed and
	// remediation_complete. Default 10: every container of 20 misbehaves
	// once in two hours, a bad estate.
	IncidentsPerHostHour float64
	// Subscribers is how many daemons hold a subscription to every event
	// type. Default Hosts, as every hemostatd's overview does; -1 none.
	Subscribers int
	// Duration is how long the measurement lasts, after a warm-up.
	// Default 10 s.
	Duration time.Duration
	// Writers is how many connections write the samples; each pipelines
	// the samples its share of hosts owes every 100 ms. Default 32.
	Writers int
}

func (l Load) withDefaults() Load {
	if l.ContainersPerHost <= 0 {
		l.ContainersPerHost = 20
	}
	if l.SampleEvery <= 0 {
		l.SampleEvery = 5 * time.Second
	}
	if l.IncidentsPerHostHour <= 0 {
		l.IncidentsPerHostHour = 10
	}
	switch {
	case l.Subscribers == 0:
		l.Subscribers = l.Hosts
	case l.Subscribers < 0:
		l.Subscribers = 0
	}
	if l.Duration <= 0 {
		l.Duration = 10 * time.Second
	}
	if l.Writers <= 0 {
		l.Writers = 32
	}
	return l
}

// SampleRate is the samples per second the fleet's monitors write.
func (l Load) SampleRate() float64 {
	l = l.withDefaults()
	return float64(l.Hosts*l.ContainersPerHost) / l.SampleEvery.Seconds()
}

// EnvelopeRate is the envelopes per second the fleet's incidents publish.
func (l Load) EnvelopeRate() float64 {
	l = l.withDefaults()
	return 3 * float64(l.Hosts) * l.IncidentsPerHostHour / 3600
}

// Target is the Redis the fleet shares.
type Target struct {
	// Client is what the daemons' buses and monitors write through.
	Client redis.UniversalClient
	// Nodes are every redis-server's address, replicas included: their
	// CPU and command counts are summed.
	Nodes []string
	// SubscribeTo are the addresses the subscribers spread over, round
	// robin (a Cluster's masters).
	SubscribeTo []string
}

// Result is what one run measured, rates per second of the measurement.
type Result struct {
	Load Load
	// Samples and Envelopes are the rates achieved; compare with
	// Load.SampleRate and Load.EnvelopeRate.
	Samples, Envelopes float64
	// Errors counts sample writes and publishes that failed.
	Errors int64
	// RedisLoad is what Redis did.
	RedisLoad
	// PublishP50, PublishP99: PUBLISH round trips as bus.Publish saw them.
	PublishP50, PublishP99 time.Duration
	// Delivered is bytes per second read by all subscribers together.
	Delivered float64
	// Cut counts subscribers Redis disconnected (output buffer limit).
	Cut int
	// Generator is the cores this process used: the simulated fleet and
	// its subscribers share the machine with Redis, and a generator near
	// its own limit explains a shortfall that Redis does not.
	Generator float64
}

// Run subscribes the fleet's daemons, drives its load for a warm-up second
// and then for l.Duration while measuring, and returns what Redis paid.
func Run(ctx context.Context, t Target, l Load) (Result, error) {
	l = l.withDefaults()
	if l.Hosts <= 0 {
		return Result{}, errors.New("fleetsim: no hosts")
	}
	res := Result{Load: l}

	subs, err := subscribeAll(t.SubscribeTo, l.Subscribers)
	defer func() {
		for _, s := range subs {
			s.close()
		}
	}()
	if err != nil {
		return res, err
	}

	f := newFleet(t.Client, l)
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	f.start(runCtx, &wg)
	defer func() {
		stop()
		wg.Wait()
		f.close()
	}()

	// Warm up: connections made, scripts loaded, first event logs written.
	select {
	case <-time.After(time.Second):
	case <-ctx.Done():
		return res, ctx.Err()
	}
	meter, err := StartMeter(ctx, t.Nodes)
	if err != nil {
		return res, err
	}
	var bytesBefore int64
	for _, s := range subs {
		bytesBefore += s.bytes.Load()
	}
	samples0, envs0, errs0 := f.samples.Load(), f.envelopes.Load(), f.errors.Load()
	f.lat.reset()
	cpu0 := processCPU()
	start := time.Now()

	select {
	case <-time.After(l.Duration):
	case <-ctx.Done():
		return res, ctx.Err()
	}

	elapsed := time.Since(start).Seconds()
	res.Generator = (processCPU() - cpu0).Seconds() / elapsed
	res.Samples = float64(f.samples.Load()-samples0) / elapsed
	res.Envelopes = float64(f.envelopes.Load()-envs0) / elapsed
	res.Errors = f.errors.Load() - errs0
	res.PublishP50, res.PublishP99 = f.lat.quantiles()
	var bytesAfter int64
	for _, s := range subs {
		bytesAfter += s.bytes.Load()
		if s.cut.Load() {
			res.Cut++
		}
	}
	res.Delivered = float64(bytesAfter-bytesBefore) / elapsed

	if res.RedisLoad, err = meter.Stop(ctx); err != nil {
		return res, err
	}
	return res, nil
}

// subscribeAll opens n subscriptions spread over addrs, a few at a time.
func subscribeAll(addrs []string, n int) ([]*subscriber, error) {
	channels := make([]string, len(protocol.LoggedTypes))
	for i, typ := range protocol.LoggedTypes {
		channels[i] = protocol.Channel(typ)
	}
	subs := make([]*subscriber, n)
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			s, err := subscribe(addrs[i%len(addrs)], channels)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = fmt.Errorf("fleetsim: subscriber %d: %w", i, err)
			}
			subs[i] = s
		}(i)
	}
	wg.Wait()
	out := subs[:0]
	for _, s := range subs {
		if s != nil {
			out = append(out, s)
		}
	}
	return out, firstErr
}

// fleet is the simulated hosts' writers.
type fleet struct {
	client redis.UniversalClient
	load   Load

	samples, envelopes, errors atomic.Int64
	lat                        latencies

	mu    sync.Mutex
	buses map[int]*bus.Bus // host → its daemon's bus, made at its first incident
}

func newFleet(c redis.UniversalClient, l Load) *fleet {
	return &fleet{client: c, load: l, buses: map[int]*bus.Bus{}}
}

func hostName(h int) string { return fmt.Sprintf("host-%05d", h) }

// container is a fleet-qualified container name, <host>/<name>.
func container(h, c int) string { return fmt.Sprintf("%s/web-%02d", hostName(h), c) }

func (f *fleet) start(ctx context.Context, wg *sync.WaitGroup) {
	for w := 0; w < f.load.Writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			f.writeSamples(ctx, w)
		}(w)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		f.incidents(ctx, wg)
	}()
}

// writeSamples writes the samples of hosts w, w+Writers, … on time: every
// 100 ms, what those hosts' monitors owe since the start, in one pipeline.
// A pipeline that takes longer than its tick leaves more for the next:
// the achieved rate shows when Redis (or this machine) cannot keep up.
func (f *fleet) writeSamples(ctx context.Context, w int) {
	var hosts []int
	for h := w; h < f.load.Hosts; h += f.load.Writers {
		hosts = append(hosts, h)
	}
	if len(hosts) == 0 {
		return
	}
	rate := float64(len(hosts)*f.load.ContainersPerHost) / f.load.SampleEvery.Seconds()
	const tick = 100 * time.Millisecond
	maxBatch := int(rate*4*tick.Seconds()) + 1
	stats, _ := json.Marshal(protocol.StatsFromSample(sampleOf("host-00000/web-00")))
	hist, _ := json.Marshal(sampleOf("host-00000/web-00"))
	start := time.Now()
	var done int
	next := 0
	tk := time.NewTicker(tick)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
		}
		due := int(time.Since(start).Seconds()*rate) - done
		if due > maxBatch {
			due = maxBatch
		}
		if due <= 0 {
			continue
		}
		p := f.client.Pipeline()
		for i := 0; i < due; i++ {
			n := next % (len(hosts) * f.load.ContainersPerHost)
			next++
			name := container(hosts[n/f.load.ContainersPerHost], n%f.load.ContainersPerHost)
			// What bus.SetStats and bus.AppendSample send, without
			// their MULTI/EXEC wrapper, which a Cluster pipeline of
			// many slots cannot carry.
			p.Set(ctx, protocol.StatsKey(name), stats, protocol.StatsTTL)
			p.RPush(ctx, protocol.HistoryKey(name), hist)
			p.LTrim(ctx, protocol.HistoryKey(name), -protocol.HistoryMax, -1)
			p.Expire(ctx, protocol.HistoryKey(name), protocol.HistoryTTL)
		}
		if _, err := p.Exec(ctx); err != nil && ctx.Err() == nil {
			f.errors.Add(1)
		}
		done += due
		f.samples.Add(int64(due))
	}
}

func sampleOf(name string) sdk.Sample {
	return sdk.Sample{
		Container: name, ID: "4f9c2d1e8a7b", Image: "registry.example/web:1.42", Status: "running",
		Time: time.Date(2026, 12, 2, 13, 4, 41, 0, time.UTC), CPUPct: 12.5, MemoryPct: 41.2,
		MemoryUsage: 220 << 20, MemoryLimit: 512 << 20,
	}
}

// incidents starts the fleet's incidents at their rate, each on a random
// host: its daemon publishes the alert, the decision and the result one
// after another, as monitor, analyzer and responder do.
func (f *fleet) incidents(ctx context.Context, wg *sync.WaitGroup) {
	rate := float64(f.load.Hosts) * f.load.IncidentsPerHostHour / 3600
	every := time.Duration(float64(time.Second) / rate)
	rng := rand.New(rand.NewSource(1))
	sem := make(chan struct{}, 256)
	start := time.Now()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(start.Add(time.Duration(n) * every))):
		}
		select {
		case sem <- struct{}{}:
		default:
			f.errors.Add(1) // 256 incidents in flight: Redis is not keeping up
			continue
		}
		h, c := rng.Intn(f.load.Hosts), rng.Intn(f.load.ContainersPerHost)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f.incident(ctx, h, c)
		}()
	}
}

func (f *fleet) incident(ctx context.Context, h, c int) {
	b := f.bus(h)
	name := container(h, c)
	host := map[string]any{"host": hostName(h)}
	metrics := map[string]any{"name": name, "status": "exited", "cpu_pct": 0.0, "memory_pct": 0.0, "host": hostName(h)}
	steps := []struct {
		agent, typ string
		data       any
	}{
		{protocol.AgentMonitor, protocol.TypeHealthAlert, protocol.HealthAlert{Container: name, Issues: []string{"exited (code 137)"}, Metrics: metrics}},
		{protocol.AgentAnalyzer, protocol.TypeRemediationNeeded, protocol.RemediationNeeded{Container: name, Action: "restart", Reason: "exited (code 137)", Confidence: 0.9, Metrics: host, Analyzer: "threshold", RequestID: fmt.Sprintf("%s-%d", name, time.Now().UnixNano())}},
		{protocol.AgentResponder, protocol.TypeRemediationComplete, protocol.RemediationComplete{Container: name, Action: "restart", Result: protocol.Result{Status: "success", Action: "restart", Container: name, DurationMS: 412, StateAfter: "running"}, Metrics: host}},
	}
	for _, s := range steps {
		t0 := time.Now()
		_, err := b.Publish(ctx, s.agent, s.typ, s.data)
		if err != nil {
			if ctx.Err() == nil {
				f.errors.Add(1)
			}
			return
		}
		f.lat.add(time.Since(t0))
		f.envelopes.Add(1)
		if s.typ == protocol.TypeRemediationNeeded {
			// The responder records the action before it reports it.
			if _, err := b.RecordRemediation(ctx, name, sdk.Remediation{Action: "restart", Status: "success"}); err != nil && ctx.Err() == nil {
				f.errors.Add(1)
			}
		}
	}
}

// bus is host h's daemon's bus: one per host, so each daemon's event-log
// appends are batched only with its own, as in a real fleet.
func (f *fleet) bus(h int) *bus.Bus {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.buses[h]
	if !ok {
		b = bus.New(f.client, bus.Options{})
		f.buses[h] = b
	}
	return b
}

func (f *fleet) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, b := range f.buses {
		b.Close(ctx)
	}
}

// latencies collects durations for quantiles.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

func (l *latencies) reset() {
	l.mu.Lock()
	l.d = l.d[:0]
	l.mu.Unlock()
}

func (l *latencies) quantiles() (p50, p99 time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return 0, 0
	}
	s := append([]time.Duration(nil), l.d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2], s[len(s)*99/100]
}

// processCPU is the CPU time this process has used, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
