package config

import (
	"strings"
	"testing"
	"time"
)

func TestAlertStormSilencesAndContainerRoutes(t *testing.T) {
	c := mustParse(t, `
alert {
  storm {
    containers = 10
    wait       = "5s"
  }
  silence {
    containers = "batch-*"
    until      = "2027-01-31T18:00:00Z"
    comment    = "nightly"
  }
  silence {
    containers = "web"
    event      = "escalation_breaker"
    until      = "2027-02-01T00:00:00+01:00"
  }
  plugin "slack" {
    containers = ["web-*", "db"]
  }
}`)
	if want := (Storm{Containers: 10, Window: time.Minute, Wait: 5 * time.Second}); c.Alert.Storm != want {
		t.Errorf("storm = %+v, want %+v (window kept at its default)", c.Alert.Storm, want)
	}
	if len(c.Alert.Silences) != 2 {
		t.Fatalf("silences = %+v", c.Alert.Silences)
	}
	s0, s1 := c.Alert.Silences[0], c.Alert.Silences[1]
	if s0.Containers != "batch-*" || s0.Event != "" || s0.Comment != "nightly" || !s0.Until.Equal(time.Date(2027, 1, 31, 18, 0, 0, 0, time.UTC)) || s0.Pos.Line != 7 {
		t.Errorf("silence 0 = %+v", s0)
	}
	if s1.Event != "escalation_breaker" || !s1.Until.Equal(time.Date(2027, 1, 31, 23, 0, 0, 0, time.UTC)) {
		t.Errorf("silence 1 = %+v", s1)
	}
	if got := strings.Join(c.Alert.Plugins[0].Containers, ","); got != "web-*,db" {
		t.Errorf("containers = %q", got)
	}
}

func TestAlertErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"silence {\n containers = \"x\"\n}", `Missing required argument`},
		{"silence {\n containers = \"x[\"\n until = \"2027-01-01T00:00:00Z\"\n}", `containers: "x[" is not a valid glob pattern`},
		{"silence {\n containers = \"x\"\n until = \"tomorrow\"\n}", `until: "tomorrow" is not an RFC 3339 time`},
		{"silence {\n containers = \"x\"\n until = \"2027-01-01T00:00:00Z\"\n event = \"lunch\"\n}", `event: "lunch" is not one of`},
		{"storm {\n containers = -1\n}", `containers: must be at least 0`},
		{"storm {\n}\nstorm {\n}", `duplicate storm block`},
		{"trouble {\n redis_grace = \"0s\"\n}", `redis_grace: must be positive`},
		{"trouble {\n often = \"1m\"\n}", `often`},
		{"plugin \"slack\" {\n containers = [\"[\"]\n}", `containers: "[" is not a valid glob pattern`},
	} {
		_, err := Parse([]byte("alert {\n"+tc.src+"\n}\n"), "t.hcl")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.src, err, tc.want)
		}
	}
}

func TestAlertTrouble(t *testing.T) {
	if got, want := mustParse(t, "").Alert.Trouble, (Trouble{RedisGrace: 30 * time.Second, PluginStable: time.Minute, Repeat: time.Hour}); got != want {
		t.Errorf("default trouble = %+v, want %+v", got, want)
	}
	c := mustParse(t, `
alert {
  trouble {
    redis_grace   = "10s"
    repeat        = "15m"
  }
}`)
	if want := (Trouble{RedisGrace: 10 * time.Second, PluginStable: time.Minute, Repeat: 15 * time.Minute}); c.Alert.Trouble != want {
		t.Errorf("trouble = %+v, want %+v (plugin_stable kept at its default)", c.Alert.Trouble, want)
	}
}
