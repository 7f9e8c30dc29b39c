package overview

import (
	"testing"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/sdk"
)

// TestDestroyedStaysGone: the stats key a destroyed container leaves
// behind does not bring it back; a container of that name started later
// does come back.
func TestDestroyedStaysGone(t *testing.T) {
	m := New(Options{})
	t0 := time.Now().UTC().Truncate(time.Second)
	m.Sample(sdk.Sample{Container: "job", Status: "running", Time: t0})
	m.Sample(sdk.Sample{Container: "job", Status: "removed", Event: sdk.EventDestroy, Time: t0.Add(time.Second)})
	old := protocol.Stats{Metrics: protocol.Metrics{Name: "job", Status: "running", Timestamp: t0.Format(protocol.StatsTimestampFormat)}}
	m.Stats(old)
	if n := len(m.Containers(nil, nil)); n != 0 {
		t.Fatalf("%d containers after the destroyed one's old stats, want 0", n)
	}
	m.Stats(protocol.Stats{Metrics: protocol.Metrics{Name: "job", Status: "running", Timestamp: t0.Add(5 * time.Second).Format(protocol.StatsTimestampFormat)}})
	if c := m.Containers(nil, nil); len(c) != 1 || c[0].Status != "running" {
		t.Fatalf("a new job: %+v", c)
	}
}
