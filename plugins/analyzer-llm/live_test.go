package llm

import (
	"os"
	"testing"
	"time"

	"github.com/hemostat/hemostat/sdk"
)

// TestLive asks a real model, only when a key is set in the environment
// (README.md says how); CI sets none, so it is skipped there. It checks
// that the provider accepts the request as built and that the answer passes
// validation.
func TestLive(t *testing.T) {
	ran := false
	for _, p := range []struct{ provider, keyVar, modelVar, urlVar, model string }{
		{ProviderOpenAI, "HEMOSTAT_LLM_LIVE_OPENAI_KEY", "HEMOSTAT_LLM_LIVE_OPENAI_MODEL", "HEMOSTAT_LLM_LIVE_OPENAI_BASE_URL", "gpt-4o-mini"},
		{ProviderAnthropic, "HEMOSTAT_LLM_LIVE_ANTHROPIC_KEY", "HEMOSTAT_LLM_LIVE_ANTHROPIC_MODEL", "HEMOSTAT_LLM_LIVE_ANTHROPIC_BASE_URL", "claude-haiku-4-5"},
	} {
		key := os.Getenv(p.keyVar)
		if key == "" {
			continue
		}
		ran = true
		t.Run(p.provider, func(t *testing.T) {
			model := os.Getenv(p.modelVar)
			if model == "" {
				model = p.model
			}
			a := New()
			cfg := map[string]any{"provider": p.provider, "model": model, "api_key": key}
			if u := os.Getenv(p.urlVar); u != "" {
				cfg["base_url"] = u
			}
			configure(t, a, cfg)
			d := analyze(t, a, crashAlert("api", canaryLog()...), 60*time.Second)
			if d.Verdict == sdk.VerdictAbstain {
				t.Fatalf("the live model's answer was not used: %s", d.Reason)
			}
			t.Logf("%s %s: %+v", p.provider, model, d)
		})
	}
	if !ran {
		t.Skip("no live key set (HEMOSTAT_LLM_LIVE_OPENAI_KEY, HEMOSTAT_LLM_LIVE_ANTHROPIC_KEY)")
	}
}
