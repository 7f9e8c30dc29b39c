package threshold

import (
	"math"

	"github.com/hemostat/hemostat/sdk"
)

// series is one resource figure over the latest samples, oldest first.
type series []float64

// seriesOf picks one figure out of the latest window resource samples of
// history. Lifecycle events (die, oom, …) carry no meaningful figures and
// are skipped. The alerting sample is appended when the history does not
// already end with it; when there is no history at all, the figure the
// alert carries (if any) is the only point.
func seriesOf(history []sdk.Sample, alert sdk.Alert, alertValue float64, window int, figure func(sdk.Sample) float64) series {
	var out series
	var last *sdk.Sample
	for i := range history {
		s := &history[i]
		if s.IsLifecycle() || (alert.Container != "" && s.Container != "" && s.Container != alert.Container) {
			continue
		}
		if v := figure(*s); validPct(v) {
			out = append(out, v)
			last = s
		}
	}
	if s := alert.Sample; s != nil && !s.IsLifecycle() && (last == nil || !last.Time.Equal(s.Time)) {
		if v := figure(*s); validPct(v) {
			out = append(out, v)
		}
	}
	if len(out) == 0 && !math.IsNaN(alertValue) {
		out = series{alertValue}
	}
	if len(out) > window {
		out = out[len(out)-window:]
	}
	return out
}

func cpuOf(s sdk.Sample) float64    { return s.CPUPct }
func memoryOf(s sdk.Sample) float64 { return s.MemoryPct }

func (s series) first() float64 { return s[0] }
func (s series) last() float64  { return s[len(s)-1] }

func (s series) max() float64 {
	m := s[0]
	for _, v := range s[1:] {
		m = math.Max(m, v)
	}
	return m
}

// countAbove counts the points strictly above line.
func (s series) countAbove(line float64) int {
	n := 0
	for _, v := range s {
		if v > line {
			n++
		}
	}
	return n
}

// slope is the least-squares slope of the points against their index, in
// percentage points per sample. Samples come at the monitor's interval, so
// the index is time in units of that interval and missing timestamps do
// not matter. Fewer than two points have no slope: 0.
func (s series) slope() float64 {
	n := float64(len(s))
	if n < 2 {
		return 0
	}
	meanX := (n - 1) / 2
	var meanY float64
	for _, v := range s {
		meanY += v
	}
	meanY /= n
	var num, den float64
	for i, v := range s {
		dx := float64(i) - meanX
		num += dx * (v - meanY)
		den += dx * dx
	}
	return num / den
}

// fittedChange is how far the least-squares line moves across the window.
func (s series) fittedChange() float64 {
	if len(s) < 2 {
		return 0
	}
	return s.slope() * float64(len(s)-1)
}
