package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/fakellm"
	"github.com/hemostat/hemostat/internal/fakeslack"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/redis/go-redis/v9"
)

// Secrets of TestNoSecretInAnyResponse, each distinct enough to find.
const (
	secretRedis = "redis-pw-Qx81zzT"
	secretLLM   = "sk-llm-key-Vb27yyK"
	secretHTTP  = "http-token-Mn55wwR"
)

const secretsConfig = `
plugin_dir = "{{plugins}}"
redis {
  address  = "{{redis}}"
  password = "%s"
}
http {
  address = "{{http}}"
  token   = "%s"
}
monitor {
  plugin "script" {}
}
analyzer {
  plugin "llm" {
    config {
      model    = "test-model"
      base_url = "%s"
      api_key  = "%s"
    }
  }
  plugin "threshold" {}
}
responder {
  plugin "record" {}
}
alert {
  plugin "slack" {
    config {
      token   = "%s"
      channel = "#ops"
      api_url = "%s"
    }
  }
}
`

// TestNoSecretInAnyResponse runs hemostatd with a Redis password, an LLM
// API key and a Slack token in its config, lets an incident flow, then
// asks every endpoint — with the token, and without it — and finds none
// of them, nor the HTTP token, in any status line, header or body.
func TestNoSecretInAnyResponse(t *testing.T) {
	llm := fakellm.New(t, fakellm.Always(fakellm.Answer{Status: http.StatusServiceUnavailable, Message: "down"}))
	fs := fakeslack.New(t)
	srv := testenv.StartRedis(t, "--requirepass", secretRedis)
	cfg := fmt.Sprintf(secretsConfig, secretRedis, secretHTTP, llm.BaseURL(), secretLLM, fakeslack.Token, fs.APIURL())
	d := startDaemon(t, srv, cfg)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), Password: secretRedis})
	t.Cleanup(func() { rdb.Close() })

	// An incident, so that the events, containers and remediations
	// endpoints have something to say.
	env, err := protocol.NewEnvelope("secrets-test", protocol.TypeEscalation,
		protocol.Escalation{Container: "api", Reason: "breaker open", Source: protocol.EscalatedByBreaker}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(env)
	deadline := time.Now().Add(20 * time.Second)
	for rdb.PubSubNumSub(context.Background(), protocol.Channel(protocol.TypeEscalation)).Val()[protocol.Channel(protocol.TypeEscalation)] == 0 {
		if time.Now().After(deadline) {
			t.Fatal("hemostatd never subscribed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := rdb.Publish(context.Background(), protocol.Channel(protocol.TypeEscalation), raw).Err(); err != nil {
		t.Fatal(err)
	}
	for len(fs.Calls("chat.postMessage")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the escalation never reached Slack")
		}
		time.Sleep(20 * time.Millisecond)
	}

	base := "http://" + d.HTTPAddr()
	secrets := []string{secretRedis, secretLLM, secretHTTP, fakeslack.Token}
	paths := []string{
		"/", "/login", "/assets/app.js", "/assets/index.html", "/healthz", "/readyz", "/metrics",
		"/api/v1/status", "/api/v1/summary", "/api/v1/containers", "/api/v1/events", "/api/v1/events?type=escalation&container=api",
		"/api/v1/remediations", "/api/v1/plugins", "/api/v1/hosts", "/api/v1/silences", "/api/v1/stream", "/api/v1/nope",
	}
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	check := func(what string, resp *http.Response) {
		t.Helper()
		defer resp.Body.Close()
		var body []byte
		if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
			buf := make([]byte, 64<<10)
			n, _ := io.ReadAtLeast(resp.Body, buf, 1)
			body = buf[:n]
		} else {
			body, _ = io.ReadAll(resp.Body)
		}
		var hdr strings.Builder
		resp.Header.Write(&hdr)
		all := resp.Status + hdr.String() + string(body)
		for _, s := range secrets {
			if strings.Contains(all, s) {
				t.Errorf("%s: the answer contains the secret %q", what, s)
			}
		}
		if what == "GET /api/v1/containers (token)" && !strings.Contains(string(body), `"api"`) {
			t.Errorf("%s: %s lacks the container the incident named", what, body)
		}
	}
	for _, auth := range []string{"token", "none"} {
		for _, p := range paths {
			req, _ := http.NewRequest(http.MethodGet, base+p, nil)
			if auth == "token" {
				req.Header.Set("Authorization", "Bearer "+secretHTTP)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("GET %s: %v", p, err)
			}
			check(fmt.Sprintf("GET %s (%s)", p, auth), resp)
		}
	}
	for _, tok := range []string{"wrong", secretHTTP} {
		resp, err := client.PostForm(base+"/login", url.Values{"token": {tok}})
		if err != nil {
			t.Fatal(err)
		}
		check("POST /login", resp)
	}
}
