package threshold

import (
	"time"

	"github.com/hemostat/hemostat/sdk"
)

// t0 is when every test's history starts; samples come every 10 seconds.
var t0 = time.Date(2025, 11, 3, 10, 30, 0, 0, time.UTC)

const (
	interval  = 10 * time.Second
	container = "hemostat-test-api"
)

// figures is one resource figure over consecutive samples.
type figures struct {
	set    func(*sdk.Sample, float64)
	values []float64
}

func cpu(v ...float64) figures { return figures{func(s *sdk.Sample, v float64) { s.CPUPct = v }, v} }
func mem(v ...float64) figures { return figures{func(s *sdk.Sample, v float64) { s.MemoryPct = v }, v} }

// history builds running resource samples, oldest first, 10 seconds
// apart: history(cpu(61, 70, 92), mem(40, 41, 42)). A figure not given is
// a calm 10% CPU or 30% memory.
func history(figs ...figures) []sdk.Sample {
	n := 0
	for _, f := range figs {
		n = max(n, len(f.values))
	}
	out := make([]sdk.Sample, n)
	for i := range out {
		out[i] = sdk.Sample{Container: container, Status: "running", Time: t0.Add(time.Duration(i) * interval), CPUPct: 10, MemoryPct: 30}
		for _, f := range figs {
			if i < len(f.values) {
				f.set(&out[i], f.values[i])
			}
		}
	}
	return out
}

// lifecycle is a lifecycle event sample at the end of a history of n.
func lifecycle(n int, event string, edit func(*sdk.Sample)) sdk.Sample {
	s := sdk.Sample{Container: container, Status: "running", Event: event, Time: t0.Add(time.Duration(n) * interval)}
	if edit != nil {
		edit(&s)
	}
	return s
}

// fromMonitor is a request as hemostatd's monitor role makes it: the
// alerting sample is the last of the history.
func fromMonitor(h []sdk.Sample, issues ...string) sdk.AnalyzeRequest {
	last := h[len(h)-1]
	return sdk.AnalyzeRequest{
		Alert:   sdk.Alert{Container: container, Issues: issues, Sample: &last, Time: last.Time},
		History: h,
	}
}

// fromExternal is a request for an alert from a monitor that sends no
// sample, with no history.
func fromExternal(metrics map[string]any, issues ...string) sdk.AnalyzeRequest {
	return sdk.AnalyzeRequest{Alert: sdk.Alert{Container: container, Issues: issues, Metrics: metrics, Time: t0}}
}

// withEvent ends a monitor request's history with a lifecycle event that
// becomes the alerting sample.
func withEvent(h []sdk.Sample, ev sdk.Sample, issues ...string) sdk.AnalyzeRequest {
	return fromMonitor(append(h, ev), issues...)
}

// remediated adds remediations that happened the given time before the alert.
func remediated(req sdk.AnalyzeRequest, status string, ago ...time.Duration) sdk.AnalyzeRequest {
	ref := req.Alert.Time
	for _, d := range ago {
		req.Remediations = append(req.Remediations, sdk.Remediation{Time: ref.Add(-d), Action: sdk.ActionRestart, Status: status})
	}
	return req
}
