package threshold

import "testing"

func TestFormatPct(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{92.5, "92.5"}, {92.46, "92.5"}, {92.44, "92.4"}, {61, "61"},
		{-5, "-5"}, {-4.96, "-5"}, {0, "0"}, {102400, "102400"},
	} {
		if got := formatPct(tc.in); got != tc.want {
			t.Errorf("formatPct(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
