package threshold

import (
	"math"
	"testing"
	"time"

	"github.com/hemostat/hemostat/sdk"
)

func TestSeriesSlope(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    series
		want float64
	}{
		{"empty", nil, 0},
		{"one point", series{50}, 0},
		{"two points", series{50, 60}, 10},
		{"straight rise", series{61, 67, 73, 79, 85, 91}, 6},
		{"straight fall", series{90, 80, 70}, -10},
		{"flat", series{80, 80, 80, 80}, 0},
		{"noise around a flat line", series{80, 81, 79, 80, 81, 79}, -2 / 17.5},
		{"spike in the middle is flat", series{10, 10, 90, 10, 10}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.s.slope(); math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("slope(%v) = %v, want %v", tc.s, got, tc.want)
			}
		})
	}
}

func TestSeriesOf(t *testing.T) {
	h := history(cpu(1, 2, 3, 4, 5))
	alertSample := sdk.Sample{Container: container, CPUPct: 6, Time: t0.Add(time.Hour)}
	for _, tc := range []struct {
		name    string
		history []sdk.Sample
		alert   sdk.Alert
		value   float64
		window  int
		want    series
	}{
		{"window keeps the newest", h, sdk.Alert{Sample: &h[4]}, math.NaN(), 3, series{3, 4, 5}},
		{"alerting sample already in the history", h, sdk.Alert{Sample: &h[4]}, math.NaN(), 10, series{1, 2, 3, 4, 5}},
		{"alerting sample appended", h, sdk.Alert{Sample: &alertSample}, math.NaN(), 3, series{4, 5, 6}},
		{"other containers skipped", append(history(cpu(7)), h[3:]...), sdk.Alert{Container: "other"}, math.NaN(), 10, nil},
		{"alert figure without history", nil, sdk.Alert{}, 92.5, 6, series{92.5}},
		{"history wins over the alert figure", h[:2], sdk.Alert{}, 92.5, 6, series{1, 2}},
		{"nothing at all", nil, sdk.Alert{}, math.NaN(), 6, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := seriesOf(tc.history, tc.alert, tc.value, tc.window, cpuOf)
			if len(got) != len(tc.want) {
				t.Fatalf("seriesOf = %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("seriesOf = %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{formatPct(92.5), "92.5"},
		{formatPct(61), "61"},
		{formatPct(91.96), "92"},
		{formatRange(series{61, 92.54}), "(61→92.5%)"},
		{formatDuration(15 * time.Minute), "15m"},
		{formatDuration(time.Hour), "1h"},
		{formatDuration(90 * time.Minute), "1h30m"},
		{formatDuration(45 * time.Second), "45s"},
		{formatDuration(90 * time.Second), "1m30s"},
		{samplesPhrase(1), "the only sample"},
		{quoteList([]string{"a", `b"c`}), `"a", "b\"c"`},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
