package gate

import (
	"testing"
	"time"
)

func TestOrdinal(t *testing.T) {
	for n, want := range map[int]string{1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 11: "11th", 12: "12th", 13: "13th", 21: "21st", 22: "22nd", 101: "101st", 111: "111th"} {
		if got := ordinal(n); got != want {
			t.Errorf("ordinal(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestFormatPair(t *testing.T) {
	tests := []struct {
		a, b         float64
		wantA, wantB string
	}{
		{0.6, 0.7, "0.60", "0.70"},
		{0.699, 0.7, "0.699", "0.700"},
		{0.6999999, 0.7, "0.6999999", "0.7"},
		{0, 1, "0.00", "1.00"},
	}
	for _, tt := range tests {
		if a, b := formatPair(tt.a, tt.b); a != tt.wantA || b != tt.wantB {
			t.Errorf("formatPair(%v, %v) = %q, %q, want %q, %q", tt.a, tt.b, a, b, tt.wantA, tt.wantB)
		}
	}
}

func TestRoundUp(t *testing.T) {
	for d, want := range map[time.Duration]time.Duration{
		0: 0, -time.Second: 0, time.Nanosecond: time.Second, 39200 * time.Millisecond: 40 * time.Second, 40 * time.Second: 40 * time.Second,
	} {
		if got := roundUp(d); got != want {
			t.Errorf("roundUp(%v) = %v, want %v", d, got, want)
		}
	}
}

func TestFormatAt(t *testing.T) {
	now := epoch
	if got := formatAt(now.Add(65*time.Second), now); got != "10:31:05" {
		t.Errorf("same day: %q", got)
	}
	if got := formatAt(now.Add(24*time.Hour), now); got != "2025-11-04 10:30:00" {
		t.Errorf("next day: %q", got)
	}
}
