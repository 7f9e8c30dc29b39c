package sdk

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"time"
)

// MemoryForecast is a leak caught before the OOM kill: memory at Pct % of
// the limit, rising at SlopePctPerSec, projected to reach the limit In from
// the sample that raised it. The monitor role alerts it at once, without
// the sustain window a plain "High memory" breach waits for: a leak fast
// enough to matter would reach the kill inside that window.
type MemoryForecast struct {
	Pct            float64
	In             time.Duration
	SlopePctPerSec float64
}

// IssueMemoryForecast words a forecast as an issue string, e.g.
// "High memory: 82.0%, limit in ≈ 40 s at +0.9%/s". It starts with
// IssuePrefixHighMemory, so a reader that only knows the prefix still
// sees high memory.
func IssueMemoryForecast(f MemoryForecast) string {
	return fmt.Sprintf("%s%.1f%%, limit in ≈ %d s at %s%%/s",
		IssuePrefixHighMemory, f.Pct, int64(math.Round(f.In.Seconds())), formatSlope(f.SlopePctPerSec))
}

// formatSlope keeps two significant digits, so that a slow leak reads
// "+0.05" rather than "+0.0".
func formatSlope(v float64) string {
	if math.Abs(v) >= 10 {
		return fmt.Sprintf("%+.0f", v)
	}
	return fmt.Sprintf("%+.2g", v)
}

// reMemoryForecast reads IssueMemoryForecast's wording, with the small
// variations another monitor may use: any case, "mem" for "memory", "~"
// or nothing for "≈", "40s" for "40 s".
var reMemoryForecast = regexp.MustCompile(`(?i)^\s*(?:high\s+)?mem(?:ory)?(?:\s+usage)?\s*[:=]?\s*([0-9]+(?:\.[0-9]+)?)\s*%\s*,\s*limit\s+in\s*(?:≈|~|about)?\s*([0-9]+(?:\.[0-9]+)?)\s*s(?:ec(?:onds?)?)?\s+at\s+([-+]?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)\s*%\s*/\s*s\s*$`)

// ParseMemoryForecast reads an issue written by IssueMemoryForecast. It
// reports false for any other issue, a plain "High memory: 91.0%"
// included.
func ParseMemoryForecast(issue string) (MemoryForecast, bool) {
	m := reMemoryForecast.FindStringSubmatch(issue)
	if m == nil {
		return MemoryForecast{}, false
	}
	pct, err1 := strconv.ParseFloat(m[1], 64)
	in, err2 := strconv.ParseFloat(m[2], 64)
	slope, err3 := strconv.ParseFloat(m[3], 64)
	if err1 != nil || err2 != nil || err3 != nil || slope <= 0 || math.IsInf(slope, 0) {
		return MemoryForecast{}, false
	}
	return MemoryForecast{Pct: pct, In: time.Duration(in * float64(time.Second)), SlopePctPerSec: slope}, true
}
