package llm

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hemostat/hemostat/sdk"
	"github.com/hemostat/hemostat/sdk/redact"
)

// Providers the analyzer speaks to.
const (
	// ProviderOpenAI is any server with OpenAI's Chat Completions API:
	// OpenAI, Ollama, vLLM, llama.cpp's server, LM Studio, gateways.
	ProviderOpenAI = "openai"
	// ProviderAnthropic is Anthropic's Messages API.
	ProviderAnthropic = "anthropic"
)

// Modes.
const (
	// ModeDecide lets a valid answer of the model decide.
	ModeDecide = "decide"
	// ModeShadow records the model's answer beside the decision of the
	// next analyzer, which decides.
	ModeShadow = "shadow"
)

// Config is the analyzer's settings, as decoded from its config block.
type Config struct {
	Provider string `json:"provider"`
	Model    string `json:"model"`
	// BaseURL is the API's base URL: with /v1 for OpenAI-compatible
	// servers, without for Anthropic. Empty means the provider's own.
	BaseURL string `json:"base_url"`
	APIKey  string `json:"api_key"`
	// Actions are what this analyzer may ask for; the responder's
	// allowlist narrows them further.
	Actions   []string `json:"actions"`
	MaxTokens int      `json:"max_tokens"`
	// Concurrency is how many calls to the model may be in flight.
	Concurrency int    `json:"concurrency"`
	Mode        string `json:"mode"`
	// MaxCallsPerHour and TokensPerDay are the budget; past either the
	// analyzer abstains until the window moves on. Zero tokens means no
	// token budget.
	MaxCallsPerHour int `json:"max_calls_per_hour"`
	TokensPerDay    int `json:"tokens_per_day"`
	// ReuseWindow: an alert identical to the last one of its container
	// within it reuses that decision instead of calling the model.
	ReuseWindow Duration `json:"reuse_window"`
	// BreakerFailures consecutive failed calls open the circuit breaker
	// for BreakerCooldown, during which the model is not called.
	BreakerFailures int      `json:"breaker_failures"`
	BreakerCooldown Duration `json:"breaker_cooldown"`
	// LogLines is how many of the newest log lines the model sees.
	LogLines int `json:"log_lines"`
	// RedactPatterns are a site's own secret shapes (Go regular
	// expressions), masked beside sdk/redact's default rules.
	RedactPatterns []string `json:"redact_patterns"`
}

// Duration is a time.Duration written as "20s" in the config file.
type Duration time.Duration

// UnmarshalJSON reads a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf(`must be a duration such as "5m"`)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf(`must be a duration such as "5m", not %q`, s)
	}
	*d = Duration(v)
	return nil
}

// DefaultConfig is what the keys left out of a config block mean.
func DefaultConfig() Config {
	return Config{
		Provider:        ProviderOpenAI,
		Actions:         []string{sdk.ActionRestart},
		MaxTokens:       400,
		Concurrency:     8,
		Mode:            ModeDecide,
		MaxCallsPerHour: 120,
		ReuseWindow:     Duration(5 * time.Minute),
		BreakerFailures: 3,
		BreakerCooldown: Duration(time.Minute),
		LogLines:        40,
	}
}

// knownActions are the actions a model may be offered: those of the
// built-in responder that need no parameters a model would have to invent
// (exec needs a command, scale a count).
var knownActions = []string{
	sdk.ActionRestart, sdk.ActionStart, sdk.ActionStop, sdk.ActionKill,
	sdk.ActionUnpause, sdk.ActionUpdateResources, sdk.ActionCleanup,
}

// settings is a checked Config plus what it implies.
type settings struct {
	Config
	// allowed is Actions narrowed to the responder's allowlist.
	allowed  []string
	redactor *redact.Redactor
}

// parseConfig decodes and checks a config block; responderActions is the
// responder's allowlist (nil when unknown). Every problem is reported as an
// sdk.ConfigError naming its key.
func parseConfig(raw json.RawMessage, responderActions []string) (settings, error) {
	cfg := DefaultConfig()
	if err := decodeEach(raw, &cfg); err != nil {
		return settings{}, err
	}
	var errs sdk.ConfigErrors
	bad := func(key, format string, args ...any) {
		errs = append(errs, sdk.ConfigError{Key: key, Message: fmt.Sprintf(format, args...)})
	}
	switch cfg.Provider {
	case ProviderOpenAI, ProviderAnthropic:
	default:
		bad("provider", "unknown provider %q; use %q (any OpenAI-compatible server) or %q", cfg.Provider, ProviderOpenAI, ProviderAnthropic)
	}
	if strings.TrimSpace(cfg.Model) == "" {
		bad("model", "is required: the model's name as the provider knows it, such as \"gpt-4o-mini\"")
	}
	if cfg.BaseURL != "" {
		if u, err := url.Parse(cfg.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("base_url", "must be an http or https URL, not %q", cfg.BaseURL)
		}
	}
	switch cfg.Mode {
	case ModeDecide, ModeShadow:
	default:
		bad("mode", "must be %q or %q, not %q", ModeDecide, ModeShadow, cfg.Mode)
	}
	s := settings{Config: cfg}
	if len(cfg.Actions) == 0 {
		bad("actions", "must name at least one action")
	}
	for _, a := range cfg.Actions {
		switch {
		case !slices.Contains(knownActions, a):
			bad("actions", "%q is not an action this analyzer may ask for (%s)", a, strings.Join(knownActions, ", "))
		case responderActions != nil && !slices.Contains(responderActions, a):
			bad("actions", "%q is outside the responder's allowlist (%s)", a, strings.Join(responderActions, ", "))
		case !slices.Contains(s.allowed, a):
			s.allowed = append(s.allowed, a)
		}
	}
	positive := func(key string, v, max int) {
		if v < 1 || v > max {
			bad(key, "must be from 1 to %d, not %d", max, v)
		}
	}
	positive("max_tokens", cfg.MaxTokens, 100_000)
	positive("concurrency", cfg.Concurrency, 1024)
	positive("max_calls_per_hour", cfg.MaxCallsPerHour, 1_000_000)
	positive("breaker_failures", cfg.BreakerFailures, 1000)
	if cfg.TokensPerDay < 0 {
		bad("tokens_per_day", "must be 0 (no budget) or more, not %d", cfg.TokensPerDay)
	}
	if cfg.LogLines < 0 || cfg.LogLines > 1000 {
		bad("log_lines", "must be from 0 to 1000, not %d", cfg.LogLines)
	}
	if cfg.ReuseWindow < 0 {
		bad("reuse_window", "must not be negative")
	}
	if cfg.BreakerCooldown <= 0 {
		bad("breaker_cooldown", "must be positive")
	}
	r, err := redact.New(cfg.RedactPatterns...)
	if err != nil {
		bad("redact_patterns", "%v", err)
	}
	s.redactor = r
	if len(errs) > 0 {
		return settings{}, errs
	}
	return s, nil
}

// decodeEach decodes the block key by key, so that every bad value is
// reported, not only the first the decoder trips over; unknown keys are
// errors.
func decodeEach(raw json.RawMessage, cfg *Config) error {
	var fields map[string]json.RawMessage
	if err := sdk.DecodeConfig(raw, &fields); err != nil {
		return err
	}
	known := map[string]bool{}
	var probe map[string]any
	b, _ := json.Marshal(cfg)
	_ = json.Unmarshal(b, &probe)
	for k := range probe {
		known[k] = true
	}
	var errs sdk.ConfigErrors
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !known[k] {
			errs = append(errs, sdk.ConfigError{Key: k, Message: "unknown setting"})
			continue
		}
		if string(fields[k]) == "null" {
			continue
		}
		one, _ := json.Marshal(map[string]json.RawMessage{k: fields[k]})
		if err := json.Unmarshal(one, cfg); err != nil {
			errs = append(errs, sdk.ConfigError{Key: k, Message: decodeMessage(err)})
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

func decodeMessage(err error) string {
	var typeErr *json.UnmarshalTypeError
	if e, ok := err.(*json.UnmarshalTypeError); ok {
		typeErr = e
		return fmt.Sprintf("must be %s, not %s", typeErr.Type, typeErr.Value)
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && strings.HasPrefix(msg, "json: ") {
		msg = msg[i+2:]
	}
	return msg
}
