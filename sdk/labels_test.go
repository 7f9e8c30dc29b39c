package sdk

import "testing"

func TestLabels(t *testing.T) {
	for _, tc := range []struct {
		value        string
		present      bool
		on, known    bool
		wantOptedOut bool
	}{
		{"true", true, true, true, false},
		{" Yes ", true, true, true, false},
		{"on", true, true, true, false},
		{"1", true, true, true, false},
		{"false", true, false, true, true},
		{"NO", true, false, true, true},
		{"off", true, false, true, true},
		{"0", true, false, true, true},
		{"maybe", true, false, false, false},
		{"", false, false, false, false},
	} {
		on, known := ParseSwitch(tc.value)
		if on != tc.on || known != tc.known {
			t.Errorf("ParseSwitch(%q) = %v, %v; want %v, %v", tc.value, on, known, tc.on, tc.known)
		}
		labels := map[string]string{}
		if tc.present {
			labels[LabelEnable] = tc.value
		}
		if got := OptedOut(labels); got != tc.wantOptedOut {
			t.Errorf("OptedOut(%s=%q) = %v, want %v", LabelEnable, tc.value, got, tc.wantOptedOut)
		}
	}
}
