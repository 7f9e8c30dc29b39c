package llm

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/hemostat/hemostat/sdk"
)

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		name      string
		config    string
		responder []string
		want      sdk.ConfigErrors
	}{
		{"unknown provider", `{"provider":"gemini","model":"m"}`, nil,
			sdk.ConfigErrors{{Key: "provider", Message: `unknown provider "gemini"; use "openai" (any OpenAI-compatible server) or "anthropic"`}}},
		{"missing model", `{"provider":"openai"}`, nil,
			sdk.ConfigErrors{{Key: "model", Message: `is required: the model's name as the provider knows it, such as "gpt-4o-mini"`}}},
		{"action outside the allowlist", `{"model":"m","actions":["restart","stop"]}`, []string{"restart", "start"},
			sdk.ConfigErrors{{Key: "actions", Message: `"stop" is outside the responder's allowlist (restart, start)`}}},
		{"action a model may not ask for", `{"model":"m","actions":["exec"]}`, nil,
			sdk.ConfigErrors{{Key: "actions", Message: `"exec" is not an action this analyzer may ask for (restart, start, stop, kill, unpause, update_resources, cleanup)`}}},
		{"bad values", `{"model":"m","mode":"yolo","max_tokens":0,"base_url":"localhost:11434","reuse_window":"soon"}`, nil,
			sdk.ConfigErrors{
				{Key: "reuse_window", Message: `must be a duration such as "5m", not "soon"`},
			}},
		{"wrong type", `{"model":"m","concurrency":"eight"}`, nil,
			sdk.ConfigErrors{{Key: "concurrency", Message: "must be int, not string"}}},
		{"unknown key", `{"model":"m","temperature":0.2}`, nil,
			sdk.ConfigErrors{{Key: "temperature", Message: "unknown setting"}}},
		{"checked values", `{"model":"m","mode":"yolo","max_tokens":0,"base_url":"localhost:11434"}`, nil,
			sdk.ConfigErrors{
				{Key: "base_url", Message: `must be an http or https URL, not "localhost:11434"`},
				{Key: "mode", Message: `must be "decide" or "shadow", not "yolo"`},
				{Key: "max_tokens", Message: "must be from 1 to 100000, not 0"},
			}},
		{"bad redact pattern", `{"model":"m","redact_patterns":["(unclosed"]}`, nil,
			sdk.ConfigErrors{{Key: "redact_patterns", Message: "redact rule extra-1: error parsing regexp: missing closing ): `(unclosed`"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseConfig(json.RawMessage(tc.config), tc.responder)
			var got sdk.ConfigErrors
			if !errors.As(err, &got) || !slices.Equal(got, tc.want) {
				t.Errorf("errors = %#v\nwant     %#v", err, tc.want)
			}
		})
	}
}

// TestConfigureNarrowsToTheResponder: the actions offered to the model are
// this analyzer's actions that the responder allows, in the analyzer's
// order, through the real gRPC path.
func TestConfigureNarrowsToTheResponder(t *testing.T) {
	impl := New()
	h := sdk.NewHarness(t, impl)
	ctx := sdk.WithResponderActions(context.Background(), []string{"start", "restart", "unpause"})
	raw := json.RawMessage(`{"model":"m","actions":["restart","start"]}`)
	if err := h.Client.Configure(ctx, raw, h.Host); err != nil {
		t.Fatal(err)
	}
	if got := impl.cur.Load().allowed; !slices.Equal(got, []string{"restart", "start"}) {
		t.Errorf("allowed = %v", got)
	}
	err := h.Client.Configure(ctx, json.RawMessage(`{"model":"m","actions":["update_resources"]}`), h.Host)
	var cerrs sdk.ConfigErrors
	if !errors.As(err, &cerrs) || cerrs[0].Key != "actions" {
		t.Errorf("Configure with an action the responder refuses = %v; want an error on actions", err)
	}
}
