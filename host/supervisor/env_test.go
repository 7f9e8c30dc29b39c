package supervisor

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/hemostat/hemostat/internal/testplugins/scripted"
	"github.com/hemostat/hemostat/sdk"
)

// TestPluginEnvironment starts a plugin from a hemostatd whose environment
// holds secrets, and reads the environment the plugin reports: only the
// basics and what the plugin's block names.
func TestPluginEnvironment(t *testing.T) {
	t.Setenv("REDIS_PASSWORD", "redis-secret")
	t.Setenv("HEMOSTAT_TOKEN", "http-secret")
	t.Setenv("OPENAI_API_KEY", "llm-secret")
	t.Setenv("HEMOSTAT_TEST_WANTED", "wanted-value")
	t.Setenv("TZ", "UTC")
	host := sdk.NewMemoryHost()
	s := newSupervisor(t, testOptions(t, host))
	ctx := testContext(t)
	p, err := s.Start(ctx, Spec{Role: sdk.RoleAnalyzer, Name: "env", Path: pluginBinary(t, "analyzer"),
		Config: json.RawMessage(`{}`), Env: []string{"HEMOSTAT_TEST_WANTED", "UNSET_ONE"}})
	if err != nil {
		t.Fatal(err)
	}
	exercise(ctx, t, p, host)

	var env []string
	for _, ev := range host.Events() {
		var c scripted.Call
		if ev.Type == scripted.CallEvent && json.Unmarshal(ev.Data, &c) == nil {
			env = c.Environ
		}
	}
	if env == nil {
		t.Fatal("the plugin reported no environment")
	}
	for _, kv := range env {
		for _, secret := range []string{"redis-secret", "http-secret", "llm-secret"} {
			if strings.Contains(kv, secret) {
				t.Errorf("the plugin inherited %q", kv)
			}
		}
	}
	for _, want := range []string{"HEMOSTAT_TEST_WANTED=wanted-value", "TZ=UTC"} {
		if !slices.Contains(env, want) {
			t.Errorf("environment %q lacks %s", env, want)
		}
	}
	if !slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "PATH=") }) {
		t.Errorf("environment %q lacks PATH", env)
	}
}

func TestPluginEnv(t *testing.T) {
	environ := []string{"PATH=/bin", "LC_TIME=C", "REDIS_PASSWORD=x", "FOO=1", "BAR=2", "broken"}
	got := pluginEnv(environ, []string{"FOO"})
	want := []string{"PATH=/bin", "LC_TIME=C", "FOO=1"}
	if !slices.Equal(got, want) {
		t.Fatalf("pluginEnv = %q, want %q", got, want)
	}
}

func TestSpecRejectsBadEnvName(t *testing.T) {
	_, err := Spec{Role: sdk.RoleAnalyzer, Name: "x", Env: []string{"OK_1", "NOT-OK"}}.normalize()
	if err == nil || !strings.Contains(err.Error(), `"NOT-OK" is not an environment variable name`) {
		t.Fatalf("normalize: %v, want the bad name reported", err)
	}
}
