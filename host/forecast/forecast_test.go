package forecast

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// series is n points every step starting at start % and moving slope %/s,
// plus noise from the given function.
func series(n int, step time.Duration, start, slope float64, noise func(i int) float64) []Point {
	pts := make([]Point, n)
	for i := range pts {
		at := time.Duration(i) * step
		pts[i] = Point{T: t0.Add(at), Pct: start + slope*at.Seconds() + noise(i)}
	}
	return pts
}

func none(int) float64 { return 0 }

// uniform is deterministic noise of ±amp percentage points.
func uniform(seed uint64, amp float64) func(int) float64 {
	r := rand.New(rand.NewPCG(seed, seed))
	return func(int) float64 { return (r.Float64()*2 - 1) * amp }
}

const (
	minT    = 3
	horizon = 30 * time.Second
)

type fitCase struct {
	name string
	pts  []Point
	// want is whether Project forecasts the limit within horizon.
	want bool
}

func fitCases() []fitCase {
	s := 5 * time.Second
	cs := []fitCase{
		{"too few samples: none", nil, false},
		{"too few samples: two, steep", series(2, s, 80, 5, none), false},
		{"one instant", []Point{{t0, 80}, {t0, 85}, {t0, 90}}, false},
		{"flat 90.5%", series(6, s, 90.5, 0, none), false},
		{"flat 99%", series(6, s, 99, 0, none), false},
		{"flat with one rounding step", append(series(5, s, 90, 0, none), Point{t0.Add(25 * time.Second), 90.01}), false},
		{"falling", series(6, s, 95, -0.5, none), false},
		// A leak of 10 % of the limit per 30 s, the example.
		{"leak 0.33%/s from 82%", series(6, s, 82, 1.0/3, none), true},
		{"leak 0.33%/s from 60%", series(6, s, 60, 1.0/3, none), false},
		{"leak 0.05%/s from 95%", series(6, s, 95, 0.05, none), false},
		{"leak 0.9%/s from 60%", series(6, s, 60, 0.9, none), true},
		{"leak 3%/s from 20%", series(6, s, 20, 3, none), true},
		{"leak 1%/s, ±0.5 noise", series(6, s, 50, 1, uniform(7, 0.5)), true},
		{"leak 1%/s from 20%, too far", series(6, s, 20, 1, none), false},
		{"leak 0.1%/s under ±2 noise", series(6, s, 90, 0.1, uniform(3, 2)), false},
		{"1 s interval, leak 2%/s", series(10, time.Second, 50, 2, none), true},
	}
	// Noisy flat containers near the limit must never be projected to
	// reach it, whatever the noise draws.
	for seed := uint64(1); seed <= 8; seed++ {
		cs = append(cs, fitCase{fmt.Sprintf("noisy flat 92%% ±1, seed %d", seed), series(6, s, 92, 0, uniform(seed, 1)), false})
	}
	return cs
}

func TestProject(t *testing.T) {
	var b strings.Builder
	for _, c := range fitCases() {
		fc, got := Project(c.pts, minT, horizon)
		if got != c.want {
			t.Errorf("%s: forecast %v (%+v), want %v", c.name, got, fc, c.want)
		}
		fit, ok := Line(c.pts)
		if !ok {
			fmt.Fprintf(&b, "%-34s no fit\n", c.name)
			continue
		}
		line := fmt.Sprintf("%-34s n=%d slope=%+.4f%%/s se=%.4f t=%s", c.name, fit.N, fit.Slope, fit.SE, formatT(fit.T()))
		if got {
			line += fmt.Sprintf(" limit in %s", fc.In.Round(100*time.Millisecond))
		}
		b.WriteString(line + "\n")
	}
	golden(t, "project.golden", b.String())
}

func formatT(v float64) string {
	// An exact line's standard error is rounding error: its t says
	// nothing but "on the line".
	if math.Abs(v) > 1e6 {
		return "exact"
	}
	return fmt.Sprintf("%.1f", v)
}

func TestLineExact(t *testing.T) {
	fit, ok := Line(series(6, 5*time.Second, 10, 0.25, none))
	if !ok || math.Abs(fit.Slope-0.25) > 1e-9 || fit.SE > 1e-9 || !math.IsInf(fit.T(), 1) {
		t.Fatalf("Line of an exact 0.25%%/s line = %+v, %v", fit, ok)
	}
	if got := fit.TimeToLimit(90); got != 40*time.Second {
		t.Errorf("TimeToLimit(90) = %v, want 40s", got)
	}
	if got := fit.TimeToLimit(100.5); got != 0 {
		t.Errorf("TimeToLimit past the limit = %v, want 0", got)
	}
	if got := (Fit{Slope: 0}).TimeToLimit(50); got != math.MaxInt64 {
		t.Errorf("TimeToLimit of a flat fit = %v, want forever", got)
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update and review the diff):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
