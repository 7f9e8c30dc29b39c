package forecast

import (
	"math"
	"time"
)

// Point is one memory sample: when, and the memory in percent of the
// limit.
type Point struct {
	T   time.Time
	Pct float64
}

// MinPoints is the fewest points a fit takes: two fix a line, the third
// gives the first measure of how well it fits.
const MinPoints = 3

// Fit is a least-squares line through a series of points.
type Fit struct {
	N int
	// Slope is in percentage points per second.
	Slope float64
	// SE is the slope's standard error, from the residuals; 0 when the
	// points lie exactly on the line.
	SE float64
}

// Line fits a least-squares line to pts, time in seconds from the first
// point. It reports false with fewer than MinPoints points or when they
// all share one time.
func Line(pts []Point) (Fit, bool) {
	n := len(pts)
	if n < MinPoints {
		return Fit{}, false
	}
	t0 := pts[0].T
	var mx, my float64
	for _, p := range pts {
		mx += p.T.Sub(t0).Seconds()
		my += p.Pct
	}
	mx /= float64(n)
	my /= float64(n)
	var sxx, sxy float64
	for _, p := range pts {
		dx := p.T.Sub(t0).Seconds() - mx
		sxx += dx * dx
		sxy += dx * (p.Pct - my)
	}
	if sxx == 0 {
		return Fit{}, false
	}
	slope := sxy / sxx
	var rss float64
	for _, p := range pts {
		r := p.Pct - (my + slope*(p.T.Sub(t0).Seconds()-mx))
		rss += r * r
	}
	return Fit{N: n, Slope: slope, SE: math.Sqrt(rss / float64(n-2) / sxx)}, true
}

// T is the slope in standard errors: +Inf for points exactly on a rising
// line, 0 for exactly flat ones.
func (f Fit) T() float64 {
	switch {
	case f.SE > 0:
		return f.Slope / f.SE
	case f.Slope > 0:
		return math.Inf(1)
	case f.Slope < 0:
		return math.Inf(-1)
	}
	return 0
}

// Rising says whether the fit shows memory growing by at least minT
// standard errors: growth the noise does not explain.
func (f Fit) Rising(minT float64) bool {
	return f.Slope > 0 && f.T() >= minT
}

// TimeToLimit is how long memory at pct, growing at the fit's slope, takes
// to reach 100 % of the limit; 0 when it is there already, and the largest
// Duration when memory is not growing.
func (f Fit) TimeToLimit(pct float64) time.Duration {
	if pct >= 100 {
		return 0
	}
	if f.Slope <= 0 {
		return math.MaxInt64
	}
	s := (100 - pct) / f.Slope
	if s >= float64(math.MaxInt64)/float64(time.Second) {
		return math.MaxInt64
	}
	return time.Duration(s * float64(time.Second))
}

// Forecast is a projected OOM kill.
type Forecast struct {
	Fit
	// Pct is the newest point's memory; In is the time from the newest
	// point to the limit.
	Pct float64
	In  time.Duration
}

// Project fits pts and reports a forecast when memory is rising by at
// least minT standard errors and is projected to reach the limit within
// horizon of the newest point.
func Project(pts []Point, minT float64, horizon time.Duration) (Forecast, bool) {
	fit, ok := Line(pts)
	if !ok || !fit.Rising(minT) {
		return Forecast{}, false
	}
	last := pts[len(pts)-1].Pct
	in := fit.TimeToLimit(last)
	if in > horizon {
		return Forecast{}, false
	}
	return Forecast{Fit: fit, Pct: last, In: in}, true
}
