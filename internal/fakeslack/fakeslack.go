// Package fakeslack is a loopback Slack for tests, speaking the real wire
// format: the Web API methods HemoStat calls (form posts, {"ok": …}
// answers, 429 with Retry-After) and incoming webhooks (JSON in, "ok" or an
// error word out). It records every request.
package fakeslack

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a fake Slack.
type Server struct {
	srv *httptest.Server

	mu       sync.Mutex
	calls    []Call
	failures map[string][]Failure // method or "webhook" → scripted answers
	nextTS   int
	channels []map[string]any
}

// Call is one recorded request: a Web API method with its form, or
// "webhook" with its JSON body.
type Call struct {
	Method string
	Form   url.Values
	JSON   []byte
	// TS is the message timestamp a chat.postMessage was answered with.
	TS string
	// At is when the request arrived.
	At time.Time
}

// Failure is a scripted answer: an HTTP status (with Retry-After), or for
// the Web API a 200 with {"ok": false, "error": SlackError}.
type Failure struct {
	Status     int
	RetryAfter string
	SlackError string
}

// New starts a fake Slack that accepts Token; it stops when the test ends.
func New(t testing.TB) *Server {
	f := &Server{failures: map[string][]Failure{}, nextTS: 1700000000,
		channels: []map[string]any{{"id": "C0OPS0001", "name": "ops", "is_member": true}, {"id": "C0ELSE001", "name": "elsewhere", "is_member": false}}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// Token is the one bot token the fake accepts.
const Token = "xoxb-good-token"

// WebhookSecret is the secret part of the fake's incoming webhook URL.
const WebhookSecret = "XXXSECRETXXX"

// APIURL is the Web API base for slack-go's OptionAPIURL, ending in "/".
func (f *Server) APIURL() string { return f.srv.URL + "/api/" }

// WebhookURL is the fake's one incoming webhook.
func (f *Server) WebhookURL() string { return f.srv.URL + "/services/T000/B000/" + WebhookSecret }

// Fail scripts the next answers of a method ("webhook" for the webhook).
func (f *Server) Fail(method string, fs ...Failure) {
	f.mu.Lock()
	f.failures[method] = append(f.failures[method], fs...)
	f.mu.Unlock()
}

// Calls returns the recorded requests of a method.
func (f *Server) Calls(method string) []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Call
	for _, c := range f.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

func (f *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	if strings.HasPrefix(r.URL.Path, "/services/") {
		f.webhook(w, r, body)
		return
	}
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	form, _ := url.ParseQuery(string(body))
	f.calls = append(f.calls, Call{Method: method, Form: form, At: time.Now()})
	if fs := f.failures[method]; len(fs) > 0 {
		f.failures[method] = fs[1:]
		if fs[0].RetryAfter != "" {
			w.Header().Set("Retry-After", fs[0].RetryAfter)
		}
		if fs[0].Status != 0 {
			w.WriteHeader(fs[0].Status)
			return
		}
		writeJSON(w, map[string]any{"ok": false, "error": fs[0].SlackError})
		return
	}
	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if token == "" {
		token = form.Get("token")
	}
	if token != Token {
		writeJSON(w, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	switch method {
	case "auth.test":
		writeJSON(w, map[string]any{"ok": true, "user_id": "UBOT", "team": "hemostat"})
	case "conversations.list":
		writeJSON(w, map[string]any{"ok": true, "channels": f.channels, "response_metadata": map[string]string{"next_cursor": ""}})
	case "conversations.info":
		for _, ch := range f.channels {
			if ch["id"] == form.Get("channel") {
				writeJSON(w, map[string]any{"ok": true, "channel": ch})
				return
			}
		}
		writeJSON(w, map[string]any{"ok": false, "error": "channel_not_found"})
	case "chat.postMessage":
		ch := form.Get("channel")
		if ch == "#ops" {
			ch = "C0OPS0001"
		}
		f.nextTS++
		ts := fmt.Sprintf("%d.000100", f.nextTS)
		f.calls[len(f.calls)-1].TS = ts
		writeJSON(w, map[string]any{"ok": true, "channel": ch, "ts": ts})
	case "chat.update":
		writeJSON(w, map[string]any{"ok": true, "channel": form.Get("channel"), "ts": form.Get("ts")})
	default:
		writeJSON(w, map[string]any{"ok": false, "error": "unknown_method"})
	}
}

// webhook answers as Slack's incoming webhooks do.
func (f *Server) webhook(w http.ResponseWriter, r *http.Request, body []byte) {
	f.calls = append(f.calls, Call{Method: "webhook", JSON: body, At: time.Now()})
	if fs := f.failures["webhook"]; len(fs) > 0 {
		f.failures["webhook"] = fs[1:]
		if fs[0].RetryAfter != "" {
			w.Header().Set("Retry-After", fs[0].RetryAfter)
		}
		w.WriteHeader(fs[0].Status)
		io.WriteString(w, fs[0].SlackError)
		return
	}
	if !strings.HasSuffix(r.URL.Path, "/"+WebhookSecret) {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "no_service")
		return
	}
	var msg map[string]any
	if json.Unmarshal(body, &msg) != nil {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, "invalid_payload")
		return
	}
	if msg["text"] == nil && msg["attachments"] == nil && msg["blocks"] == nil {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, "no_text")
		return
	}
	io.WriteString(w, "ok")
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
