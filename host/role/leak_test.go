package role

import (
	"strings"
	"testing"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/sdk"
)

func leakThresholds() Thresholds {
	th := testThresholds()
	th.LeakForecast, th.LeakHorizon, th.LeakSamples = true, 30*time.Second, 6
	return th
}

// climb is n memory figures from start, step points apart.
func climb(start, step float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = start + step*float64(i)
	}
	return out
}

// feed sends one running sample every 5 s from second sec and returns the
// alerts, each as "second: issues".
func feed(d *detector, sec int, mem []float64) []string {
	var out []string
	for i, m := range mem {
		s := at(sec+5*i, running(10, m))
		if det, ok := d.observe(s); ok {
			out = append(out, secs(sec+5*i)+": "+strings.Join(det.Issues, " | "))
		}
	}
	return out
}

func secs(i int) string { return time.Duration(i * int(time.Second)).String() }

func TestDetectorLeakForecast(t *testing.T) {
	// noisy is 92 % ± 1 point, the wobble of a busy flat container.
	noisy := []float64{92.4, 91.2, 92.9, 91.5, 92.1, 91.1, 92.8, 92.6, 91.3, 92.0, 91.7, 92.9, 91.0, 92.2, 92.5, 91.6}
	for _, tc := range []struct {
		name string
		th   func(*Thresholds)
		mem  []float64
		want []string
	}{
		{
			// 0.6 %/s: from 90 % the sustain window would end in the OOM
			// kill. The forecast alerts at 83 %, 28 s ahead, once.
			name: "a leak is alerted at once, below memory_pct, once",
			mem:  climb(41, 3, 17),
			want: []string{"1m10s: High memory: 83.0%, limit in ≈ 28 s at +0.6%/s"},
		},
		{
			// The issue's leak, 10 % of the limit per 30 s.
			name: "the issue's leak is alerted before 100 %",
			mem:  climb(61, 10.0/6, 24),
			want: []string{"1m30s: High memory: 91.0%, limit in ≈ 27 s at +0.33%/s"},
		},
		{
			name: "a slow leak far from the limit is not",
			mem:  climb(50, 0.25, 20),
		},
		{
			name: "a flat container near the limit is never a leak",
			th:   func(th *Thresholds) { th.MemoryPct = 99 },
			mem:  climb(98.5, 0, 30),
		},
		{
			name: "a noisy flat container is never a leak",
			th:   func(th *Thresholds) { th.MemoryPct = 95 },
			mem:  noisy,
		},
		{
			name: "too few samples are not a fit",
			th:   func(th *Thresholds) { th.LeakSamples = 6 },
			mem:  climb(50, 10, 5),
		},
		{
			name: "off, only the sustained breach is alerted",
			th:   func(th *Thresholds) { th.LeakForecast = false },
			mem:  climb(70, 1, 30),
			want: []string{"2m15s: High memory: 97.0%"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			th := leakThresholds()
			if tc.th != nil {
				tc.th(&th)
			}
			got := feed(newDetector(th), 0, tc.mem)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("alerts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// A restart ends the leak incident: the relapse is alerted as soon as a
// new window shows it, not a realert later.
func TestDetectorLeakAfterRestart(t *testing.T) {
	d := newDetector(leakThresholds())
	d.th.Grace = 0
	if got := feed(d, 0, climb(41, 3, 15)); len(got) != 1 {
		t.Fatalf("first leak: %q, want one alert", got)
	}
	d.observe(at(75, sdk.Sample{Status: "running", Event: sdk.EventStart, StartedAt: t0.Add(75 * time.Second)}))
	// The fresh process starts low: the window of the old one is gone, so
	// no line joins the two.
	got := feed(d, 80, climb(41, 3, 15))
	if len(got) != 1 || !strings.Contains(got[0], "limit in") {
		t.Fatalf("relapse: %q, want one forecast", got)
	}
}

// The start-up grace holds a forecast back like any resource alert, but
// the samples of the grace count: the forecast comes the moment it ends.
func TestDetectorLeakGrace(t *testing.T) {
	d := newDetector(leakThresholds())
	var got []string
	for i, m := range climb(50, 3, 13) {
		s := at(5*i, sdk.Sample{Status: "running", MemoryPct: m, StartedAt: t0})
		if det, ok := d.observe(s); ok {
			got = append(got, s.Time.Sub(t0).String()+": "+det.Issues[0])
		}
	}
	want := "1m0s: High memory: 86.0%, limit in ≈ 23 s at +0.6%/s"
	if len(got) != 1 || got[0] != want {
		t.Fatalf("alerts %q, want [%q]", got, want)
	}
}

// A deferred restart of a leak is still due while memory stays at the
// figure it was forecast from, and not once a restart brought it down.
func TestStillSickLeak(t *testing.T) {
	r := &Responder{Detect: testThresholds()}
	need := protocol.RemediationNeeded{Container: "api", Issues: []string{sdk.IssueMemoryForecast(sdk.MemoryForecast{Pct: 70, In: 20 * time.Second, SlopePctPerSec: 1.5})}}
	for _, tc := range []struct {
		mem  float64
		want bool
	}{{70, true}, {85, true}, {12, false}} {
		s := running(5, tc.mem)
		s.Container = "api"
		if got, why := r.stillSick(need, s); got != tc.want {
			t.Errorf("memory %.0f%%: still sick %v (%s), want %v", tc.mem, got, why, tc.want)
		}
	}
}

// A leak that goes on past memory_pct after its forecast is one incident:
// the breach of the line a moment later is not a second alert (a second
// action on the same container).
func TestDetectorLeakCoversTheMemoryLine(t *testing.T) {
	d := newDetector(leakThresholds())
	d.th.Grace = 0
	got := feed(d, 0, climb(70, 1, 30)) // 70 → 99 %, memory_pct is 90
	if len(got) != 1 || !strings.Contains(got[0], "limit in") {
		t.Fatalf("alerts %q, want the forecast alone", got)
	}
}
