package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/daemontest"
	"github.com/hemostat/hemostat/internal/testenv"
)

// Bounds of the flood.
const (
	floodFor = 30 * time.Second
	// floodBatch is how many alerts one pipelined round trip publishes.
	floodBatch = 500
	// floodRSSLimit bounds hemostatd and its plugin's peak resident set
	// summed (≈135 MiB in a flood, two processes of one binary): a queue
	// that grew with the flood would pass it within seconds, the flood
	// publishing ≈6 MiB of alerts a second.
	floodRSSLimit = 256 << 20
)

// TestFaultFlood: alerts for new containers published at full speed for
// 30 s, far faster than an analyzer judges them. hemostatd holds the bus
// back instead of queueing without bound: its memory stays bounded, it
// drops nothing itself, and what Redis cut from its subscription (the
// output-buffer limit) is counted as lost, never silent. Once the flood
// ends the next alert is decided at once.
func TestFaultFlood(t *testing.T) {
	row := daemontest.Fault(t, "a 30 s flood of alerts for new containers at full speed (pipelined raw PUBLISH, pub/sub)")
	srv := testenv.StartRedis(t)
	d := startDaemon(t, srv, analyzerOnly)
	d.waitSubscribed(t, protocol.TypeHealthAlert)
	// Raw pipelined PUBLISHes, as fast as one connection goes: an agent
	// of the original protocol in a loop. One envelope, its container
	// renamed for each alert, so that the publisher is not the limit.
	pub := srv.Client(t)
	ctx := context.Background()
	template := burstAlert(t, "flood-XXXXXXXXXX")
	payloads := make([]string, floodBatch)
	sent := 0
	start := time.Now()
	for i := 0; time.Since(start) < floodFor; i++ {
		for j := range payloads {
			payloads[j] = strings.ReplaceAll(template, "flood-XXXXXXXXXX", fmt.Sprintf("flood-%010d", i*floodBatch+j))
		}
		p := pub.Pipeline()
		for _, raw := range payloads {
			p.Publish(ctx, protocol.Channel(protocol.TypeHealthAlert), raw)
		}
		if _, err := p.Exec(ctx); err != nil {
			t.Fatalf("flood: %v", err)
		}
		sent += floodBatch
	}
	flooded := time.Since(start)
	d.Alive(t)

	// Let what hemostatd holds drain: the decisions stop growing.
	decisions := func() int { return metricSum(d.Metrics(t), "hemostat_analyzer_decisions_total") }
	last, settled := -1, time.Now()
	for deadline := time.Now().Add(faultWait); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if n := decisions(); n != last {
			last, settled = n, time.Now()
		} else if time.Since(settled) > 3*time.Second {
			break
		}
	}
	m := d.Metrics(t)
	received := metricValue(m, `hemostat_bus_received_total{type="health_alert"}`)
	replayed := metricSum(m, "hemostat_bus_replayed_total")
	lost := metricValue(m, `hemostat_bus_lost_total{type="health_alert"}`)
	dups := metricSum(m, "hemostat_analyzer_duplicate_alerts_total")
	invalid := 0
	for _, line := range strings.Split(m, "\n") {
		if strings.HasPrefix(line, "hemostat_bus_invalid_messages_total{") && strings.Contains(line, `type="health_alert"`) {
			f, _ := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			invalid += int(f)
		}
	}
	reconnects := metricSum(m, "hemostat_bus_reconnects_total")
	rss := peakRSS(t, d)

	// The next alert, after the flood, is decided at once.
	w := daemontest.Watch(t, d.rdb)
	d.waitSubscribed(t, protocol.TypeHealthAlert)
	after := time.Now()
	if err := d.rdb.Publish(ctx, protocol.Channel(protocol.TypeHealthAlert), burstAlert(t, "after-flood")).Err(); err != nil {
		t.Fatal(err)
	}
	w.WaitAbout(t, "after-flood", decided, faultWait)

	row.Figure("%d alerts in %s (%.0f/s); hemostatd received %d, decided %d; Redis cut the subscription %d times (%d envelopes of every type replayed from the event logs after the cuts, %d alerts counted lost); peak RSS %d MiB (hemostatd and plugin); the next alert decided %s after the flood's end",
		sent, flooded.Round(time.Second), float64(sent)/flooded.Seconds(), received, last, reconnects, replayed, lost, rss>>20, time.Since(after).Round(time.Millisecond))
	if rss > floodRSSLimit {
		t.Errorf("peak RSS %d MiB, want under %d MiB: something queued without bound", rss>>20, floodRSSLimit>>20)
	}
	// Nothing dropped by hemostatd: every alert it received was judged
	// (and any replayed from the event log too: the count may be higher).
	if taken := received - dups - invalid; last < taken {
		t.Errorf("hemostatd received %d alerts (%d, less %d duplicates and %d invalid) but decided %d: %d dropped",
			taken, received, dups, invalid, last, taken-last)
	}
	// What Redis cut is not hidden: each cut is a reconnect, logged and
	// counted. (Alerts published without the event-log count extension
	// cannot be counted one by one; those of HemoStat's own publishers
	// are — see host/bus TestOutputBufferCutReplaysAndCountsLoss.)
	if received < sent && reconnects == 0 {
		t.Errorf("%d alerts sent, %d received, and no cut of the subscription recorded: lost silently", sent, received)
	}
	if strings.Contains(m, "hemostat_bus_dropped_messages_total") {
		t.Error("hemostatd still has a drop counter: work is thrown away somewhere")
	}
	row.Outcome("memory bounded, the bus held back rather than queued; nothing dropped by hemostatd; Redis's cuts of the subscription logged and counted as reconnects (raw PUBLISHes outside the event-log count cannot be counted one by one; use delivery = \"streams\" to keep them); decided at once afterwards")
}

// metricValue is the value of one series, named with its labels as the
// exposition writes them; 0 when absent.
func metricValue(text, series string) int {
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return int(f)
		}
	}
	return 0
}
