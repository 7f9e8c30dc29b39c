package llm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"
)

// Structured output levels, best first. Not every OpenAI-compatible server
// knows json_schema (TGI rejects it) or even json_object; a server that
// rejects one is asked with the next, and remembered.
const (
	formatJSONSchema int32 = iota
	formatJSONObject
	formatText
)

var formatNames = []string{"json_schema", "json_object", "text"}

// openaiProvider speaks Chat Completions to any OpenAI-compatible server.
type openaiProvider struct {
	client    openai.Client
	model     string
	maxTokens int
	allowed   []string
	format    atomic.Int32
	now       func() time.Time
}

func newOpenAI(cfg settings, httpClient *http.Client) *openaiProvider {
	opts := []option.RequestOption{
		option.WithHTTPClient(httpClient),
		// The SDK retries twice by default and sleeps through a
		// Retry-After without looking at the context; the analyzer owns
		// retries and deadlines.
		option.WithMaxRetries(0),
		option.WithAPIKey(cfg.APIKey),
	}
	if cfg.BaseURL != "" {
		opts = append(opts, option.WithBaseURL(cfg.BaseURL))
	}
	return &openaiProvider{
		client: openai.NewClient(opts...), model: cfg.Model, maxTokens: cfg.MaxTokens,
		allowed: cfg.allowed, now: time.Now,
	}
}

func (p *openaiProvider) complete(ctx context.Context, pr prompt) (completion, error) {
	for {
		level := p.format.Load()
		c, err := p.once(ctx, pr, level)
		var ce *callError
		if err != nil && errors.As(err, &ce) && ce.Kind == failRequest && level < formatText && rejectsFormat(ce) {
			// Downgrade once for everyone, then ask again at once.
			p.format.CompareAndSwap(level, level+1)
			continue
		}
		return c, err
	}
}

// rejectsFormat says a 400/422 is about response_format. Servers word it
// differently; any mention of the format or a schema counts, and so does
// a 422 (TGI's validation error) with no usable message.
func rejectsFormat(e *callError) bool {
	msg := strings.ToLower(e.Err.Error())
	for _, hint := range []string{"response_format", "json_schema", "json_object", "schema", "format"} {
		if strings.Contains(msg, hint) {
			return true
		}
	}
	return e.Status == http.StatusUnprocessableEntity
}

func (p *openaiProvider) once(ctx context.Context, pr prompt, level int32) (completion, error) {
	params := openai.ChatCompletionNewParams{
		Model: p.model,
		Messages: []openai.ChatCompletionMessageParamUnion{
			openai.SystemMessage(pr.System),
			openai.UserMessage(pr.User),
		},
		// max_tokens, not max_completion_tokens: Ollama and other
		// compatible servers read only max_tokens.
		MaxTokens: openai.Int(int64(p.maxTokens)),
	}
	switch level {
	case formatJSONSchema:
		params.ResponseFormat = openai.ChatCompletionNewParamsResponseFormatUnion{
			OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{JSONSchema: shared.ResponseFormatJSONSchemaJSONSchemaParam{
				Name: "hemostat_decision", Schema: replySchema(p.allowed), Strict: openai.Bool(true),
			}},
		}
	case formatJSONObject:
		params.ResponseFormat = openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONObject: &shared.ResponseFormatJSONObjectParam{}}
	}
	resp, err := p.client.Chat.Completions.New(ctx, params)
	if err != nil {
		var apiErr *openai.Error
		if errors.As(err, &apiErr) {
			var h http.Header
			if apiErr.Response != nil {
				h = apiErr.Response.Header
			}
			msg := apiErr.Message
			if msg == "" {
				msg = http.StatusText(apiErr.StatusCode)
			}
			return completion{}, classifyHTTP(apiErr.StatusCode, h, msg, p.now())
		}
		return completion{}, classifyTransport(ctx, err)
	}
	if len(resp.Choices) == 0 {
		return completion{}, &callError{Kind: failReply, Err: errors.New("the reply has no choices")}
	}
	text := resp.Choices[0].Message.Content
	if strings.TrimSpace(text) == "" {
		return completion{}, &callError{Kind: failReply, Err: fmt.Errorf("the reply is empty (finish_reason %q)", resp.Choices[0].FinishReason)}
	}
	tokens := int(resp.Usage.TotalTokens)
	if tokens == 0 {
		tokens = estimateTokens(pr) + p.maxTokens
	}
	return completion{Text: text, Tokens: tokens}, nil
}

// estimateTokens guesses a prompt's size for the token budget when the
// server reports no usage: about four characters a token.
func estimateTokens(pr prompt) int { return (len(pr.System) + len(pr.User)) / 4 }
