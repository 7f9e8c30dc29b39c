package llm

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeModel is a loopback server that speaks the wire format of one
// provider: OpenAI's Chat Completions (POST /v1/chat/completions) or
// Anthropic's Messages (POST /v1/messages). It answers with what the test
// scripted and keeps every request body, so that tests can check what left
// the process.
type fakeModel struct {
	t        testing.TB
	srv      *httptest.Server
	provider string

	mu     sync.Mutex
	bodies []string
	// answer scripts the response to the n-th request (from 0).
	answer func(n int, body map[string]any) fakeAnswer
}

// fakeAnswer is one scripted response.
type fakeAnswer struct {
	status     int    // 0 means 200
	text       string // the model's reply, for a 200
	raw        string // sent as the body verbatim instead, with rawType
	rawType    string
	errType    string // for an error status
	errMsg     string
	retryAfter string
	delay      time.Duration
}

func newFakeModel(t testing.TB, provider string, answer func(n int, body map[string]any) fakeAnswer) *fakeModel {
	f := &fakeModel{t: t, provider: provider, answer: answer}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// baseURL is what the analyzer's base_url is set to: with /v1 for
// OpenAI-compatible servers, without for Anthropic.
func (f *fakeModel) baseURL() string {
	if f.provider == ProviderAnthropic {
		return f.srv.URL
	}
	return f.srv.URL + "/v1"
}

func (f *fakeModel) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.bodies...)
}

func (f *fakeModel) serve(w http.ResponseWriter, r *http.Request) {
	want := "/v1/chat/completions"
	if f.provider == ProviderAnthropic {
		want = "/v1/messages"
	}
	raw, _ := io.ReadAll(r.Body)
	if r.Method != http.MethodPost || r.URL.Path != want {
		f.writeError(w, http.StatusNotFound, "not_found_error", fmt.Sprintf("no route %s %s", r.Method, r.URL.Path))
		return
	}
	f.mu.Lock()
	n := len(f.bodies)
	f.bodies = append(f.bodies, string(raw))
	f.mu.Unlock()
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	a := f.answer(n, body)
	if a.delay > 0 {
		select {
		case <-time.After(a.delay):
		case <-r.Context().Done():
			return
		}
	}
	if a.retryAfter != "" {
		w.Header().Set("Retry-After", a.retryAfter)
	}
	switch {
	case a.raw != "" || a.rawType != "":
		w.Header().Set("Content-Type", a.rawType)
		w.WriteHeader(max(a.status, http.StatusOK))
		io.WriteString(w, a.raw)
	case a.status != 0 && a.status != http.StatusOK:
		f.writeError(w, a.status, a.errType, a.errMsg)
	case f.provider == ProviderAnthropic:
		f.writeAnthropic(w, body, a.text)
	default:
		f.writeOpenAI(w, body, a.text)
	}
}

func (f *fakeModel) writeError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if f.provider == ProviderAnthropic {
		json.NewEncoder(w).Encode(map[string]any{"type": "error", "error": map[string]any{"type": typ, "message": msg}})
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": nil}})
}

func (f *fakeModel) writeOpenAI(w http.ResponseWriter, body map[string]any, text string) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-fake", "object": "chat.completion", "created": 1764633600, "model": body["model"],
		"choices": []any{map[string]any{
			"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": text},
		}},
		"usage": map[string]any{"prompt_tokens": 300, "completion_tokens": 40, "total_tokens": 340},
	})
}

// writeAnthropic answers with the forced tool call when text is a JSON
// object, as a real model does, else with a text block.
func (f *fakeModel) writeAnthropic(w http.ResponseWriter, body map[string]any, text string) {
	var block map[string]any
	if json.Valid([]byte(text)) && strings.HasPrefix(strings.TrimSpace(text), "{") {
		block = map[string]any{"type": "tool_use", "id": "toolu_fake", "name": decisionTool, "input": json.RawMessage(text)}
	} else {
		block = map[string]any{"type": "text", "text": text}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"id": "msg_fake", "type": "message", "role": "assistant", "model": body["model"],
		"content": []any{block}, "stop_reason": "tool_use", "stop_sequence": nil,
		"usage": map[string]any{"input_tokens": 300, "output_tokens": 40},
	})
}

// always answers every request alike.
func always(a fakeAnswer) func(int, map[string]any) fakeAnswer {
	return func(int, map[string]any) fakeAnswer { return a }
}
