package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/host/bus"
	"github.com/hemostat/hemostat/host/gate"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/prometheus/client_golang/prometheus"
)

func start(t *testing.T, token string) string {
	t.Helper()
	url, _ := startWithRedis(t, token)
	return url
}

// startWithRedis is start that also returns the server's redis-server.
func startWithRedis(t *testing.T, token string) (string, *testenv.RedisServer) {
	t.Helper()
	srv := testenv.StartRedis(t)
	reg := prometheus.NewRegistry()
	b := bus.New(srv.Client(t), bus.Options{Logger: hclog.NewNullLogger(), Registerer: reg})
	t.Cleanup(func() { b.Close(context.Background()) })
	g := gate.New(gate.DefaultPolicy(), time.Now)
	g.Record("api", "restart", "success")
	s, err := Listen(Options{Address: "127.0.0.1:0", Token: token, Logger: hclog.NewNullLogger(), Gatherer: reg, Bus: b, Gate: g, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return "http://" + s.Addr(), srv
}

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestEndpoints(t *testing.T) {
	base := start(t, "")
	for _, tc := range []struct {
		path string
		want string
	}{
		{"/healthz", "ok"},
		{"/metrics", "hemostat_bus_reconnects_total"},
		{"/", "<title>HemoStat</title>"},
	} {
		code, body := get(t, base+tc.path, "")
		if code != http.StatusOK || !strings.Contains(body, tc.want) {
			t.Errorf("GET %s = %d, body lacks %q", tc.path, code, tc.want)
		}
	}
	code, body := get(t, base+"/api/v1/status", "")
	var st Status
	if code != http.StatusOK || json.Unmarshal([]byte(body), &st) != nil {
		t.Fatalf("status: %d %s", code, body)
	}
	if st.Version != "test" || len(st.Containers) != 1 || st.Containers[0].Container != "api" {
		t.Errorf("status = %+v, want version test and the gate's one container", st)
	}
}

func TestTokenRequired(t *testing.T) {
	base := start(t, "s3cret")
	for _, tc := range []struct {
		path, token string
		want        int
	}{
		{"/api/v1/status", "", http.StatusUnauthorized},
		{"/api/v1/status", "wrong", http.StatusUnauthorized},
		{"/api/v1/status", "s3cret", http.StatusOK},
		{"/metrics", "", http.StatusUnauthorized},
		{"/healthz", "", http.StatusOK}, // probes carry no token
	} {
		if code, _ := get(t, base+tc.path, tc.token); code != tc.want {
			t.Errorf("GET %s with token %q = %d, want %d", tc.path, tc.token, code, tc.want)
		}
	}
}

func TestNonLoopbackNeedsToken(t *testing.T) {
	_, err := Listen(Options{Address: "0.0.0.0:0", Logger: hclog.NewNullLogger()})
	if err == nil || !strings.Contains(err.Error(), "token") {
		t.Fatalf("Listen on 0.0.0.0 without a token: %v, want a refusal naming the token", err)
	}
}
