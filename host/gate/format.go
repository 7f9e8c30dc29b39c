package gate

import (
	"strconv"
	"time"
)

// formatPair renders two numbers with two decimals, or with as many more as
// it takes to tell them apart, so that a refusal never reads
// "0.70 is below the minimum 0.70".
func formatPair(a, b float64) (string, string) {
	for prec := 2; prec <= 6; prec++ {
		sa, sb := strconv.FormatFloat(a, 'f', prec, 64), strconv.FormatFloat(b, 'f', prec, 64)
		if sa != sb {
			return sa, sb
		}
	}
	return strconv.FormatFloat(a, 'g', -1, 64), strconv.FormatFloat(b, 'g', -1, 64)
}

// ordinal spells n as "1st", "2nd", "3rd", "4th", "11th", "21st", ...
func ordinal(n int) string {
	suffix := "th"
	switch n % 100 {
	case 11, 12, 13:
	default:
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return strconv.Itoa(n) + suffix
}

// formatAt renders a moment on the clock of now: the time of day, with the
// date only when it is not today.
func formatAt(t, now time.Time) string {
	t = t.In(now.Location())
	if y, m, d := t.Date(); y == now.Year() && m == now.Month() && d == now.Day() {
		return t.Format(time.TimeOnly)
	}
	return t.Format(time.DateTime)
}

// roundUp rounds a wait up to the whole second, so that "in 0s" is never
// shown for a wait that has not ended.
func roundUp(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return (d + time.Second - 1) / time.Second * time.Second
}

// count spells "1 action", "5 actions".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
