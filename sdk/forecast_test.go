package sdk

import (
	"testing"
	"time"
)

func TestIssueMemoryForecast(t *testing.T) {
	cases := []struct {
		f    MemoryForecast
		want string
	}{
		{MemoryForecast{Pct: 82, In: 40 * time.Second, SlopePctPerSec: 0.9}, "High memory: 82.0%, limit in ≈ 40 s at +0.9%/s"},
		{MemoryForecast{Pct: 91.26, In: 174600 * time.Millisecond, SlopePctPerSec: 0.05}, "High memory: 91.3%, limit in ≈ 175 s at +0.05%/s"},
		{MemoryForecast{Pct: 40, In: 4 * time.Second, SlopePctPerSec: 15.2}, "High memory: 40.0%, limit in ≈ 4 s at +15%/s"},
		{MemoryForecast{Pct: 60, In: 12 * time.Second, SlopePctPerSec: 3.333}, "High memory: 60.0%, limit in ≈ 12 s at +3.3%/s"},
	}
	for _, c := range cases {
		got := IssueMemoryForecast(c.f)
		if got != c.want {
			t.Errorf("IssueMemoryForecast(%+v) = %q, want %q", c.f, got, c.want)
		}
		back, ok := ParseMemoryForecast(got)
		if !ok {
			t.Fatalf("ParseMemoryForecast(%q) failed", got)
		}
		if d := back.Pct - c.f.Pct; d > 0.05 || d < -0.05 {
			t.Errorf("%q: pct %v, want %v", got, back.Pct, c.f.Pct)
		}
		if d := back.In - c.f.In; d > time.Second || d < -time.Second {
			t.Errorf("%q: in %v, want %v", got, back.In, c.f.In)
		}
	}
}

func TestParseMemoryForecast(t *testing.T) {
	cases := []struct {
		issue string
		ok    bool
		want  MemoryForecast
	}{
		{"High memory: 82.0%, limit in ≈ 40 s at +0.9%/s", true, MemoryForecast{82, 40 * time.Second, 0.9}},
		{"high MEMORY: 82%, limit in ~40s at 0.9 %/s", true, MemoryForecast{82, 40 * time.Second, 0.9}},
		{"Memory usage 70.5%, limit in 12.5 sec at +2%/s", true, MemoryForecast{70.5, 12500 * time.Millisecond, 2}},
		{"High memory: 91.0%", false, MemoryForecast{}},
		{"High memory: 82.0%, limit in ≈ 40 s at -0.9%/s", false, MemoryForecast{}},
		{"High memory: 82.0%, limit in ≈ 40 s at +0%/s", false, MemoryForecast{}},
		{"High CPU: 82.0%, limit in ≈ 40 s at +0.9%/s", false, MemoryForecast{}},
		{"", false, MemoryForecast{}},
	}
	for _, c := range cases {
		got, ok := ParseMemoryForecast(c.issue)
		if ok != c.ok || got != c.want {
			t.Errorf("ParseMemoryForecast(%q) = %+v, %v; want %+v, %v", c.issue, got, ok, c.want, c.ok)
		}
	}
}
