package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestRedacted(t *testing.T) {
	t.Setenv("HEMOSTAT_CONFIG_TEST_PASSWORD", "redis-pw")
	t.Setenv("HEMOSTAT_CONFIG_TEST_TOKEN", "http-token")
	t.Setenv("HEMOSTAT_CONFIG_TEST_HOOK", "https://hooks.example/T0/B0/xyz")
	t.Setenv("HEMOSTAT_CONFIG_TEST_ENDPOINT", "https://user:pw@llm.example")
	c := mustParse(t, `
redis {
  address  = "10.0.0.1:6379"
  password = env("HEMOSTAT_CONFIG_TEST_PASSWORD")
}
http {
  address = "0.0.0.0:9090"
  token   = env("HEMOSTAT_CONFIG_TEST_TOKEN")
}
analyzer {
  plugin "llm" {
    config {
      endpoint = env("HEMOSTAT_CONFIG_TEST_ENDPOINT")
      api_key  = "literal-key"
      model    = "small"
      nested   = { auth = "${env("HEMOSTAT_CONFIG_TEST_PASSWORD")}" }
      empty_token = ""
    }
  }
}
alert {
  plugin "slack" {
    config {
      webhook_url = env("HEMOSTAT_CONFIG_TEST_HOOK")
      channel     = "#ops"
    }
  }
}
`)
	before := *c
	beforeLLM := string(c.Analyzer.Plugins[0].Config)
	r := c.Redacted()

	tests := []struct {
		name      string
		got, want string
	}{
		{"redis password", r.Redis.Password, Redaction},
		{"http token", r.HTTP.Token, Redaction},
		{"llm config", string(r.Analyzer.Plugins[0].Config), `{"api_key":"<redacted>","empty_token":"","endpoint":"<redacted>","model":"small","nested":"<redacted>"}`},
		{"slack config", string(r.Alert.Plugins[0].Config), `{"channel":"#ops","webhook_url":"<redacted>"}`},
		{"untouched", r.Redis.Addresses[0], "10.0.0.1:6379"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %s, want %s", tt.name, tt.got, tt.want)
		}
	}

	// The original is unchanged and shares nothing that Redacted altered.
	if c.Redis.Password != "redis-pw" || c.HTTP.Token != "http-token" {
		t.Errorf("Redacted changed the original's secrets")
	}
	if string(c.Analyzer.Plugins[0].Config) != beforeLLM {
		t.Errorf("Redacted changed the original's plugin config")
	}
	if !reflect.DeepEqual(*c, before) {
		t.Errorf("Redacted changed the original")
	}
	r.Responder.Actions[0] = "kill"
	r.Alert.Plugins[0].Events[0] = "x"
	r.Analyzer.Plugins[0].Ranges["model"] = Pos{}
	if c.Responder.Actions[0] != "restart" || c.Alert.Plugins[0].Events[0] == "x" || c.Analyzer.Plugins[0].Ranges["model"] == (Pos{}) {
		t.Errorf("Redacted shares slices or maps with the original")
	}

	// No secret survives anywhere in the redacted copy's printed form.
	printed := strings.Join([]string{r.Redis.Password, r.HTTP.Token, string(r.Analyzer.Plugins[0].Config), string(r.Alert.Plugins[0].Config)}, " ")
	for _, secret := range []string{"redis-pw", "http-token", "hooks.example", "user:pw", "literal-key"} {
		if strings.Contains(printed, secret) {
			t.Errorf("redacted config still shows %q", secret)
		}
	}
}

func TestRedactedUnsetSecretsStayEmpty(t *testing.T) {
	r := Default().Redacted()
	if r.Redis.Password != "" || r.HTTP.Token != "" {
		t.Errorf("unset secrets redacted to %q, %q; want them empty", r.Redis.Password, r.HTTP.Token)
	}
	if !reflect.DeepEqual(r, Default()) {
		t.Errorf("Redacted of Default = %+v, want Default", r)
	}
}

func TestRedactedByName(t *testing.T) {
	// A plugin built in code, not parsed: secrets are found by name alone.
	c := Default()
	c.Alert.Plugins = []Plugin{{Name: "x", Config: []byte(`{"bot_token":"xoxb-1","Password":"p","url":"u"}`)}}
	got := string(c.Redacted().Alert.Plugins[0].Config)
	want := `{"Password":"<redacted>","bot_token":"<redacted>","url":"u"}`
	if got != want {
		t.Errorf("Config = %s, want %s", got, want)
	}
	c.Alert.Plugins[0].Config = []byte(`["not", "an", "object"]`)
	if got := string(c.Redacted().Alert.Plugins[0].Config); got != `"<redacted>"` {
		t.Errorf("a non-object config = %s, want it hidden whole", got)
	}
}
