package fakellm

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Answer is one scripted response.
type Answer struct {
	// Text is the model's reply in a 200.
	Text string
	// Status, when not 0 or 200, is answered with an OpenAI error body.
	Status     int
	Message    string
	RetryAfter string
	// Delay holds the answer back; Hang holds it until the client gives
	// up, as a model that never answers.
	Delay time.Duration
	Hang  bool
}

// Server is a fake model.
type Server struct {
	srv    *httptest.Server
	answer func(n int) Answer

	mu     sync.Mutex
	bodies []string
}

// New starts a fake that answers the n-th request (from 0) as answer says;
// it stops when the test ends.
func New(t testing.TB, answer func(n int) Answer) *Server {
	s := &Server{answer: answer}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// Always answers every request alike.
func Always(a Answer) func(int) Answer { return func(int) Answer { return a } }

// BaseURL is the llm analyzer's base_url for this server (with /v1).
func (s *Server) BaseURL() string { return s.srv.URL + "/v1" }

// Requests returns the request bodies received so far, in order.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bodies...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		writeError(w, http.StatusNotFound, "no route "+r.Method+" "+r.URL.Path)
		return
	}
	s.mu.Lock()
	n := len(s.bodies)
	s.bodies = append(s.bodies, string(raw))
	s.mu.Unlock()
	a := s.answer(n)
	if a.Hang {
		<-r.Context().Done()
		return
	}
	if a.Delay > 0 {
		select {
		case <-time.After(a.Delay):
		case <-r.Context().Done():
			return
		}
	}
	if a.RetryAfter != "" {
		w.Header().Set("Retry-After", a.RetryAfter)
	}
	if a.Status != 0 && a.Status != http.StatusOK {
		writeError(w, a.Status, a.Message)
		return
	}
	var req struct {
		Model string `json:"model"`
	}
	_ = json.Unmarshal(raw, &req)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-fake", "object": "chat.completion", "created": time.Now().Unix(), "model": req.Model,
		"choices": []any{map[string]any{
			"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": a.Text},
		}},
		"usage": map[string]any{"prompt_tokens": 300, "completion_tokens": 40, "total_tokens": 340},
	})
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": "api_error", "param": nil, "code": nil}})
}

// RefusedURL returns a loopback base_url nothing listens on: every
// connection to it is refused.
func RefusedURL(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/v1"
}
