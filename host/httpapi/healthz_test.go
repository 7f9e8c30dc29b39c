package httpapi

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestHealthzRedisHung freezes redis-server with SIGSTOP: /healthz must
// still answer, unavailable, within its deadline (the client's timeout is
// its 2 s plus slack, well below the 5 s the go-redis read timeout would
// add), and the unauthenticated answer must not name the Redis address.
func TestHealthzRedisHung(t *testing.T) {
	url, srv := startWithRedis(t, "secret-token")
	if code, body := get(t, url+"/healthz", ""); code != http.StatusOK {
		t.Fatalf("before: %d %q", code, body)
	}
	srv.Freeze(t)
	client := &http.Client{Timeout: healthzTimeout + 1500*time.Millisecond}
	for i := range 2 { // a second probe while the first PING still hangs
		resp, err := client.Get(url + "/healthz")
		if err != nil {
			t.Fatalf("probe %d with Redis hung: %v", i+1, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body := string(b)
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("probe %d: %d %q, want 503", i+1, resp.StatusCode, body)
		}
		_, port, _ := strings.Cut(srv.Addr(), ":")
		if strings.Contains(body, srv.Addr()) || strings.Contains(body, port) || strings.Contains(body, "127.0.0.1") {
			t.Fatalf("probe %d: unauthenticated answer %q names the Redis address %s", i+1, body, srv.Addr())
		}
	}
	srv.Thaw(t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, _ := get(t, url+"/healthz", "")
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz still %d after Redis was thawed", code)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestHealthzRedisDown: a stopped Redis is reported without its address.
func TestHealthzRedisDown(t *testing.T) {
	url, srv := startWithRedis(t, "")
	srv.Stop(t)
	code, body := get(t, url+"/healthz", "")
	if code != http.StatusServiceUnavailable || strings.Contains(body, srv.Addr()) || strings.Contains(body, "dial") {
		t.Fatalf("/healthz = %d %q, want 503 naming no address", code, body)
	}
}
