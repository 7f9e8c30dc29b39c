package supervisor

import (
	"reflect"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name         string
		initial, max time.Duration
		want         []time.Duration
	}{
		{"defaults", DefaultRestartInitial, DefaultRestartMax, []time.Duration{500 * ms, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}},
		{"cap below a doubling", 100 * ms, 250 * ms, []time.Duration{100 * ms, 200 * ms, 250 * ms, 250 * ms}},
		{"no growth", time.Second, time.Second, []time.Duration{time.Second, time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := backoff{initial: tt.initial, max: tt.max}
			var got []time.Duration
			for range tt.want {
				got = append(got, b.next())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			b.reset()
			if d := b.next(); d != tt.initial {
				t.Fatalf("after reset: got %v, want %v", d, tt.initial)
			}
		})
	}
}

func TestOptionsDefaults(t *testing.T) {
	o := Options{RestartInitial: time.Minute, RestartMax: time.Second}.withDefaults()
	if o.RestartMax != time.Minute || o.PingInterval != DefaultPingInterval || o.Logger == nil {
		t.Fatalf("withDefaults: %+v", o)
	}
	if got := o.BuiltinArgs("analyzer", "llm"); !reflect.DeepEqual(got, []string{"plugin", "analyzer", "llm"}) {
		t.Fatalf("BuiltinArgs: %v", got)
	}
}
