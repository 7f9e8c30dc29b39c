package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/sdk"
)

// fill gives the model n containers, each with a full history and
// decision trail, as a busy host would have.
func (w *world) fill(b *testing.B, n int) {
	now := time.Now()
	for i := range n {
		name := fmt.Sprintf("svc-%03d", i)
		for p := range 60 {
			w.model.Sample(sdk.Sample{Container: name, Status: "running", Health: "healthy", Time: now.Add(time.Duration(p-60) * 5 * time.Second), CPUPct: float64(p), MemoryPct: 40})
		}
		for d := range 10 {
			env, _ := protocol.NewEnvelope("bench", protocol.TypeRemediationNeeded, protocol.RemediationNeeded{
				Container: name, Action: "restart", Reason: fmt.Sprintf("exited with code %d", d), Confidence: 0.9, Analyzer: "threshold"}, now.Add(time.Duration(d)*time.Millisecond))
			w.model.Apply(env)
		}
	}
}

// BenchmarkContainers200 times GET /api/v1/containers with 200
// containers against its baseline in the same run: encoding the same
// list to JSON in-process, with no HTTP, gate or silences.
func BenchmarkContainers200(b *testing.B) {
	w := startWorld(b, "")
	w.fill(b, 200)
	b.Run("api", func(b *testing.B) {
		var size int
		for b.Loop() {
			resp, err := http.Get(w.url + "/api/v1/containers")
			if err != nil {
				b.Fatal(err)
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			size = int(n)
		}
		b.ReportMetric(float64(size), "resp_bytes")
	})
	b.Run("baseline_encode", func(b *testing.B) {
		var size int
		for b.Loop() {
			raw, _ := json.Marshal(ContainerList{GeneratedAt: time.Now(), Containers: w.model.Containers(nil, nil)})
			size = len(raw)
		}
		b.ReportMetric(float64(size), "resp_bytes")
	})
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkStreamFanout publishes b.N envelopes at 1 000/s through the
// real bus while 20 stream clients read them all and a client that never
// reads is cut; its baseline in the same run is the same publishing with
// no stream client. It reports the process's CPU per second of each (the
// server, the clients and the publisher share the process) and fails if a
// reading client missed an envelope.
func BenchmarkStreamFanout(b *testing.B) {
	const clients, rate = 20, 1000
	w := startWorld(b, "")
	publishAll := func() time.Duration {
		tick := time.NewTicker(time.Second / rate)
		defer tick.Stop()
		start, cpu0 := time.Now(), cpuTime()
		for i := range b.N {
			<-tick.C
			w.publish(b, protocol.TypeFalseAlarm, protocol.FalseAlarm{Container: fmt.Sprintf("c-%d", i%200), Reason: "blip", Analyzer: "threshold"})
		}
		return time.Duration(float64(cpuTime()-cpu0) / time.Since(start).Seconds())
	}
	b.StopTimer()
	base := publishAll()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	counts := make([]int, clients)
	for c := range clients {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, w.url+"/api/v1/stream", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "event: false_alarm") {
					counts[c]++
					if counts[c] == b.N {
						return
					}
				}
			}
		}()
	}
	slow := w.hub.Join(64)
	waitFor(b, "the stream clients", func() bool { return w.hub.Clients() == clients+1 })
	b.StartTimer()
	fan := publishAll()
	b.StopTimer()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		b.Errorf("reading clients got %v of %d envelopes", counts, b.N)
	}
	cut := false
	select {
	case <-slow.Cut():
		cut = true
	default:
	}
	if b.N > 64 && !cut {
		b.Error("the client that never read was not cut")
	}
	b.ReportMetric(float64(base.Milliseconds()), "baseline_cpu_ms/s")
	b.ReportMetric(float64(fan.Milliseconds()), "fanout_cpu_ms/s")
	b.ReportMetric(float64(fan)/float64(base), "cpu_ratio")
}
