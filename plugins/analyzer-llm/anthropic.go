package llm

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
)

// decisionTool is the tool Anthropic models are forced to call: its input
// is the reply, so the answer is JSON by construction.
const decisionTool = "record_decision"

// anthropicProvider speaks Anthropic's Messages API.
type anthropicProvider struct {
	client    anthropic.Client
	model     string
	maxTokens int
	allowed   []string
	now       func() time.Time
}

func newAnthropic(cfg settings, httpClient *http.Client) *anthropicProvider {
	opts := []option.RequestOption{
		option.WithHTTPClient(httpClient),
		option.WithMaxRetries(0), // the analyzer owns retries and deadlines
		option.WithAPIKey(cfg.APIKey),
	}
	if cfg.BaseURL != "" {
		opts = append(opts, option.WithBaseURL(cfg.BaseURL))
	}
	return &anthropicProvider{
		client: anthropic.NewClient(opts...), model: cfg.Model, maxTokens: cfg.MaxTokens,
		allowed: cfg.allowed, now: time.Now,
	}
}

func (p *anthropicProvider) complete(ctx context.Context, pr prompt) (completion, error) {
	schema := replySchema(p.allowed)
	msg, err := p.client.Messages.New(ctx, anthropic.MessageNewParams{
		Model:     anthropic.Model(p.model),
		MaxTokens: int64(p.maxTokens),
		System:    []anthropic.TextBlockParam{{Text: pr.System}},
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(pr.User))},
		Tools: []anthropic.ToolUnionParam{{OfTool: &anthropic.ToolParam{
			Name:        decisionTool,
			Description: anthropic.String("Record the decision about the health alert."),
			InputSchema: anthropic.ToolInputSchemaParam{
				Properties: schema["properties"],
				Required:   schema["required"].([]string),
			},
		}}},
		ToolChoice: anthropic.ToolChoiceUnionParam{OfTool: &anthropic.ToolChoiceToolParam{Name: decisionTool}},
	})
	if err != nil {
		var apiErr *anthropic.Error
		if errors.As(err, &apiErr) {
			var h http.Header
			if apiErr.Response != nil {
				h = apiErr.Response.Header
			}
			return completion{}, classifyHTTP(apiErr.StatusCode, h, anthropicMessage(apiErr), p.now())
		}
		return completion{}, classifyTransport(ctx, err)
	}
	tokens := int(msg.Usage.InputTokens + msg.Usage.OutputTokens)
	if tokens == 0 {
		tokens = estimateTokens(pr) + p.maxTokens
	}
	var text string
	for _, block := range msg.Content {
		switch block.Type {
		case "tool_use":
			if block.Name == decisionTool && len(block.Input) > 0 {
				return completion{Text: string(block.Input), Tokens: tokens}, nil
			}
		case "text":
			text += block.Text
		}
	}
	if text == "" {
		return completion{}, &callError{Kind: failReply, Err: errors.New("the reply has neither the decision tool call nor text")}
	}
	return completion{Text: text, Tokens: tokens}, nil
}

// anthropicMessage is the error's message from its
// {"type":"error","error":{"type":…,"message":…}} body.
func anthropicMessage(e *anthropic.Error) string {
	var body struct {
		Error struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if raw := e.RawJSON(); raw != "" {
		_ = json.Unmarshal([]byte(raw), &body)
	}
	switch {
	case body.Error.Message != "":
		return body.Error.Type + ": " + body.Error.Message
	default:
		return http.StatusText(e.StatusCode)
	}
}
