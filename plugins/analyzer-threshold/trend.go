package threshold

import (
	"math"
	"slices"

	"github.com/hemostat/hemostat/sdk"
)

// series is one resource figure over the latest samples, oldest first.
type series []float64

// seriesOf picks one figure out of the latest window resource samples of
// history. Lifecycle events (die, oom, …) carry no meaningful figures and
// are skipped. The alerting sample is added when the history does not
// already end with it; when there is no history at all, the figure the
// alert carries (if any) is the only point. It walks the history from the
// newest end, so a long history costs no more than the window.
func seriesOf(history []sdk.Sample, alert sdk.Alert, alertValue float64, window int, figure func(sdk.Sample) float64) series {
	newest := make(series, 0, window) // newest first, reversed at the end
	pending := alert.Sample != nil && !alert.Sample.IsLifecycle() && validPct(figure(*alert.Sample))
	for i := len(history) - 1; i >= 0 && len(newest) < window; i-- {
		s := history[i]
		if s.IsLifecycle() || (alert.Container != "" && s.Container != "" && s.Container != alert.Container) {
			continue
		}
		v := figure(s)
		if !validPct(v) {
			continue
		}
		if pending {
			// The newest usable sample: is it the alerting one?
			pending = false
			if !s.Time.Equal(alert.Sample.Time) {
				newest = append(newest, figure(*alert.Sample))
				if len(newest) == window {
					break
				}
			}
		}
		newest = append(newest, v)
	}
	if pending {
		newest = append(newest, figure(*alert.Sample))
	}
	if len(newest) == 0 && !math.IsNaN(alertValue) {
		newest = append(newest, alertValue)
	}
	slices.Reverse(newest)
	return newest
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
