package role

import (
	"strings"
	"testing"
	"time"

	"github.com/hemostat/hemostat/sdk"
)

var t0 = time.Date(2025, 11, 3, 10, 30, 0, 0, time.UTC)

func testThresholds() Thresholds {
	return Thresholds{
		CPUPct: 85, MemoryPct: 90, Sustain: 30 * time.Second, Grace: 60 * time.Second,
		Realert: 5 * time.Minute, RestartLoopCount: 3, RestartLoopWindow: 10 * time.Minute,
	}
}

// at is a sample seen sec seconds after t0.
func at(sec int, s sdk.Sample) sdk.Sample {
	if s.Container == "" {
		s.Container = "api"
	}
	s.Time = t0.Add(time.Duration(sec) * time.Second)
	return s
}

func running(cpu, mem float64) sdk.Sample {
	return sdk.Sample{Status: "running", CPUPct: cpu, MemoryPct: mem, StartedAt: t0.Add(-time.Hour)}
}

func die(code int) sdk.Sample {
	return sdk.Sample{Status: "exited", Event: sdk.EventDie, ExitCode: code}
}

func TestDetector(t *testing.T) {
	type step struct {
		sample sdk.Sample
		want   string // "" for no alert, else the joined issues
	}
	for _, tc := range []struct {
		name  string
		th    func(*Thresholds)
		steps []step
	}{
		{
			name: "one spike is not an alert",
			steps: []step{
				{at(0, running(95, 10)), ""},
				{at(5, running(20, 10)), ""},
				{at(10, running(96, 10)), ""},
			},
		},
		{
			name: "a breach that lasts the sustain window is",
			steps: []step{
				{at(0, running(95, 10)), ""},
				{at(15, running(97, 10)), ""},
				{at(30, running(92.5, 10)), "High CPU: 92.5%"},
				{at(35, running(99, 10)), ""}, // re-alert throttled
			},
		},
		{
			name: "sustain zero alerts at once",
			th:   func(th *Thresholds) { th.Sustain = 0 },
			steps: []step{
				{at(0, running(20, 91.04)), "High memory: 91.0%"},
			},
		},
		{
			name: "grace after a start delays resource alerts",
			th:   func(th *Thresholds) { th.Sustain = 0 },
			steps: []step{
				{at(0, sdk.Sample{Status: "running", Event: sdk.EventStart, StartedAt: t0}), ""},
				{at(30, sdk.Sample{Status: "running", CPUPct: 99, StartedAt: t0}), ""},
				{at(61, sdk.Sample{Status: "running", CPUPct: 99, StartedAt: t0}), "High CPU: 99.0%"},
			},
		},
		{
			name: "per-container thresholds from labels",
			th:   func(th *Thresholds) { th.Sustain = 0 },
			steps: []step{
				{at(0, sdk.Sample{Status: "running", CPUPct: 90, StartedAt: t0.Add(-time.Hour), Labels: map[string]string{LabelCPUPct: "95"}}), ""},
				{at(5, sdk.Sample{Status: "running", CPUPct: 96, StartedAt: t0.Add(-time.Hour), Labels: map[string]string{LabelCPUPct: "95"}}), "High CPU: 96.0%"},
			},
		},
		{
			name: "exit codes alert at once, every time; exit 0 does not",
			steps: []step{
				{at(0, die(1)), "Exited with code 1"},
				{at(1, die(0)), ""},
				{at(30, die(2)), "Exited with code 2"},
			},
		},
		{
			name: "a stop a person asked for is not a crash",
			steps: []step{
				{at(0, sdk.Sample{Status: "exited", Event: sdk.EventDie, ExitCode: 143, StopRequested: true}), ""},
			},
		},
		{
			name: "crashes hemostatd restarts are each an alert: the breaker, not the detector, ends that loop",
			steps: []step{
				{at(0, die(1)), "Exited with code 1"},
				{at(60, die(1)), "Exited with code 1"},
				{at(120, die(1)), "Exited with code 1"},
				{at(180, die(1)), "Exited with code 1"},
			},
		},
		{
			name: "a loop Docker's own restart policy runs is still caught",
			steps: []step{
				{at(0, sdk.Sample{Status: "restarting", Event: sdk.EventDie, ExitCode: 1, RestartingByDocker: true}), ""},
				{at(1, sdk.Sample{Status: "restarting", Event: sdk.EventDie, ExitCode: 1, RestartingByDocker: true}), ""},
				{at(3, sdk.Sample{Status: "restarting", Event: sdk.EventDie, ExitCode: 1, RestartingByDocker: true}), "Restart loop: 3 restarts in 10m0s; Exited with code 1"},
			},
		},
		{
			name: "OOM event and the die that follows are one incident",
			steps: []step{
				{at(0, sdk.Sample{Status: "running", Event: sdk.EventOOM}), "OOM killed"},
				{at(0, sdk.Sample{Status: "exited", Event: sdk.EventDie, ExitCode: 137, OOMKilled: true}), ""},
			},
		},
		{
			name: "unhealthy alerts at once; healthy does not; paused is not unhealthy",
			steps: []step{
				{at(0, sdk.Sample{Status: "running", Event: sdk.EventHealthStatus, Health: sdk.HealthHealthy}), ""},
				{at(1, sdk.Sample{Status: "running", Event: sdk.EventHealthStatus, Health: sdk.HealthUnhealthy}), "Health check failing"},
				{at(2, sdk.Sample{Container: "db", Status: "paused", Event: sdk.EventPause}), ""},
				{at(3, sdk.Sample{Container: "db", Status: "paused", Event: sdk.EventHealthStatus, Health: sdk.HealthUnhealthy}), ""},
			},
		},
		{
			name: "a relapse after healthy again alerts at once, not after realert",
			steps: []step{
				{at(0, sdk.Sample{Status: "running", Event: sdk.EventHealthStatus, Health: sdk.HealthUnhealthy}), "Health check failing"},
				{at(2, sdk.Sample{Status: "running", Event: sdk.EventHealthStatus, Health: sdk.HealthUnhealthy}), ""},
				{at(3, sdk.Sample{Status: "running", Event: sdk.EventHealthStatus, Health: sdk.HealthHealthy}), ""},
				{at(7, sdk.Sample{Status: "running", Event: sdk.EventHealthStatus, Health: sdk.HealthUnhealthy}), "Health check failing"},
			},
		},
		{
			name: "a restart ends the incident: the next OOM kill alerts at once",
			steps: []step{
				{at(0, sdk.Sample{Status: "running", Event: sdk.EventOOM}), "OOM killed"},
				{at(1, sdk.Sample{Status: "running", Event: sdk.EventRestart, StartedAt: t0.Add(time.Second)}), ""},
				{at(9, sdk.Sample{Status: "running", Event: sdk.EventOOM}), "OOM killed"},
			},
		},
		{
			name: "a breach back under the line ends the incident",
			th:   func(th *Thresholds) { th.Sustain = 0 },
			steps: []step{
				{at(0, running(95, 10)), "High CPU: 95.0%"},
				{at(5, running(96, 10)), ""},
				{at(10, running(20, 10)), ""},
				{at(15, running(97, 10)), "High CPU: 97.0%"},
			},
		},
		{
			name: "an exit during a gap in the stream is a crash, once",
			steps: []step{
				{at(0, running(10, 10)), ""},
				// The first state sample of a new Watch.
				{at(20, stopped(3, false)), "Exited with code 3"},
				{at(40, stopped(3, false)), ""}, // and of the Watch after it
			},
		},
		{
			name: "an exit seen live is not counted again after a gap",
			steps: []step{
				{at(0, running(10, 10)), ""},
				{at(1, die(3)), "Exited with code 3"},
				{at(20, stopped(3, false)), ""},
			},
		},
		{
			name: "after a gap, a stop's exit code, a clean exit and an old exit are not crashes",
			steps: []step{
				{at(0, running(10, 10)), ""},
				{at(20, stopped(143, true)), ""},
				{at(0, sdk.Sample{Container: "db", Status: "running"}), ""},
				{at(20, sdk.Sample{Container: "db", Status: "exited"}), ""},
				// Exited before the detector first saw it.
				{at(20, sdk.Sample{Container: "old", Status: "exited", ExitCode: 1}), ""},
				{at(0, sdk.Sample{Container: "new", Status: "created"}), ""},
			},
		},
		{
			name: "an exit during a gap while Docker was restarting it is a crash",
			steps: []step{
				{at(0, sdk.Sample{Status: "restarting", Event: sdk.EventDie, ExitCode: 1, RestartingByDocker: true}), ""},
				{at(20, stopped(1, false)), "Exited with code 1"},
			},
		},
		{
			name: "an OOM kill during a gap",
			steps: []step{
				{at(0, running(10, 10)), ""},
				{at(20, sdk.Sample{Status: "exited", ExitCode: 137, OOMKilled: true}), "OOM killed; Exited with code 137"},
			},
		},
		{
			name: "opted-out containers are ignored",
			th:   func(th *Thresholds) { th.Sustain = 0 },
			steps: []step{
				{at(0, sdk.Sample{Status: "exited", Event: sdk.EventDie, ExitCode: 1, Labels: map[string]string{LabelEnable: "false"}}), ""},
				{at(1, sdk.Sample{Container: "web", Status: "exited", Event: sdk.EventDie, ExitCode: 1, Labels: map[string]string{LabelEnable: "no"}}), ""},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			th := testThresholds()
			if tc.th != nil {
				tc.th(&th)
			}
			d := newDetector(th)
			for i, st := range tc.steps {
				det, ok := d.observe(st.sample)
				got := ""
				if ok {
					got = strings.Join(det.Issues, "; ")
				}
				if got != st.want {
					t.Errorf("step %d (%s %s): alert %q, want %q", i, st.sample.Container, st.sample.Event, got, st.want)
				}
			}
		})
	}
}

// stopped is the state sample of a stopped container, as a monitor
// plugin's first sync reports it.
func stopped(code int, stopRequested bool) sdk.Sample {
	return sdk.Sample{Status: "exited", ExitCode: code, StopRequested: stopRequested}
}

// TestDetectorRecallsStatusFromBeforeItStarted: a container the stats key
// last saw running and the first sample shows exited crashed while
// hemostatd itself was away.
func TestDetectorRecallsStatusFromBeforeItStarted(t *testing.T) {
	d := newDetector(testThresholds())
	if d.knows("api") {
		t.Fatal("a new detector knows a container")
	}
	d.recall("api", "running")
	d.recall("db", "exited")
	if det, ok := d.observe(at(0, stopped(2, false))); !ok || det.Issues[0] != "Exited with code 2" {
		t.Errorf("exited after running in the stats key: %v %v, want an exit alert", det, ok)
	}
	if det, ok := d.observe(at(0, sdk.Sample{Container: "db", Status: "exited", ExitCode: 2})); ok {
		t.Errorf("exited after exited in the stats key: %v, want no alert", det)
	}
	d.recall("api", "running") // too late: the detector has seen it
	if det, ok := d.observe(at(5, stopped(2, false))); ok {
		t.Errorf("second sample of the same exit: %v, want no alert", det)
	}
}

func TestDetectorForgetsIdleContainers(t *testing.T) {
	d := newDetector(testThresholds())
	d.observe(at(0, running(10, 10)))
	d.forgetIdle(t0.Add(time.Hour), 2*time.Hour)
	if len(d.containers) != 1 {
		t.Fatal("forgot a container seen an hour ago")
	}
	d.forgetIdle(t0.Add(3*time.Hour), 2*time.Hour)
	if len(d.containers) != 0 {
		t.Fatal("kept a container not seen for three hours")
	}
}

func TestTrigger(t *testing.T) {
	for _, tc := range []struct {
		issues []string
		want   string
	}{
		{[]string{"High CPU: 92.5%"}, "resource"},
		{[]string{"High CPU: 92.5%", "High memory: 95.0%"}, "resource"},
		{[]string{"Exited with code 1"}, "lifecycle"},
		{[]string{"High CPU: 92.5%", "Health check failing"}, "lifecycle"},
		{nil, "lifecycle"},
		// A forecast OOM kill is not excused by a start-up grace.
		{[]string{"High memory: 82.0%, limit in ≈ 40 s at +0.9%/s"}, "lifecycle"},
		{[]string{"High CPU: 92.5%", "High memory: 82.0%, limit in ≈ 40 s at +0.9%/s"}, "lifecycle"},
	} {
		if got := trigger(tc.issues); got != tc.want {
			t.Errorf("trigger(%q) = %s, want %s", tc.issues, got, tc.want)
		}
	}
}
