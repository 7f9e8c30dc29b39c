package threshold

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// formatPct writes a percentage the way the protocol's issue strings do,
// to one decimal, without a trailing ".0": 92.5, 61.
func formatPct(v float64) string {
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
}

// formatRange is a trend for a reason: "(61→92.5%)".
func formatRange(s series) string {
	return fmt.Sprintf("(%s→%s%%)", formatPct(s.first()), formatPct(s.last()))
}

// formatDuration drops the zero units Go's Duration.String keeps: 15m, 1h.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// samplesPhrase is "the last 6 samples", or "the only sample".
func samplesPhrase(n int) string {
	if n == 1 {
		return "the only sample"
	}
	return fmt.Sprintf("the last %d samples", n)
}

// quoteList quotes issues for a reason: "Disk full", "Foo".
func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}
