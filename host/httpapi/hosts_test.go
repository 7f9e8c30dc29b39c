package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/bus"
	"github.com/hemostat/hemostat/host/inspect"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/testenv"
)

// startHosts serves the API on a real redis-server, as hemostatd wires it
// (Redis set), and returns its URL, the server and a client of it.
func startHosts(t *testing.T) (string, *testenv.RedisServer, *redis.Client) {
	t.Helper()
	srv := testenv.StartRedis(t)
	c := srv.Client(t)
	reg := prometheus.NewRegistry()
	b := bus.New(c, bus.Options{Logger: hclog.NewNullLogger(), Registerer: reg})
	t.Cleanup(func() { b.Close(context.Background()) })
	s, err := Listen(Options{Address: "127.0.0.1:0", Logger: hclog.NewNullLogger(), Gatherer: reg, Bus: b, Redis: c, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return "http://" + s.Addr(), srv, c
}

func TestHostsEndpoint(t *testing.T) {
	url, srv, c := startHosts(t)
	ctx := context.Background()
	now := time.Now().UTC()
	// A heartbeat as a daemon writes it: active, as without a lease or
	// holding one.
	daemon := func(host string, pid int) {
		id := fmt.Sprintf("%s:%d", host, pid)
		raw := fmt.Sprintf(`{"id":%q,"host":%q,"pid":%d,"version":"v1","started":%q,"updated":%q,"active":true,"plugins":[]}`,
			id, host, pid, now.Format(time.RFC3339), now.Format(time.RFC3339))
		if err := c.Set(ctx, inspect.HeartbeatKey(id), raw, inspect.HeartbeatTTL).Err(); err != nil {
			t.Fatal(err)
		}
	}
	stats := func(names ...string) {
		for _, n := range names {
			c.Set(ctx, protocol.StatsKey(n), `{"name":"`+n+`","status":"running"}`, protocol.StatsTTL)
		}
	}
	for _, tc := range []struct {
		name  string
		setup func()
		want  string // host:up:active:containers:daemons, one per host
	}{
		{"nobody yet", func() {}, ""},
		{"one host, its daemon and its containers", func() { daemon("box", 1); stats("web", "db") }, "box:true:box:1:2:1"},
		{"three hosts of a fleet, one with a standby on its lease, one gone",
			func() {
				daemon("a", 1)
				daemon("a", 2)
				c.Set(ctx, "hemostat:lease:{a}", "a:2:5", 5*time.Second)
				daemon("b", 1)
				stats("a/web", "b/web", "b/db", "c/web")
			},
			"a:true:a:2:1:2 b:true:b:1:2:1 c:false::1:0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.FlushAll(ctx)
			tc.setup()
			code, body := get(t, url+"/api/v1/hosts", "")
			if code != http.StatusOK {
				t.Fatalf("GET /api/v1/hosts: %d %s", code, body)
			}
			var list HostList
			if err := json.Unmarshal([]byte(body), &list); err != nil {
				t.Fatalf("%v: %s", err, body)
			}
			if list.GeneratedAt.IsZero() || list.Hosts == nil {
				t.Errorf("body %s: want generated_at and a hosts array, even empty", body)
			}
			var got []string
			for _, h := range list.Hosts {
				got = append(got, fmt.Sprintf("%s:%t:%s:%d:%d", h.Name, h.Up, h.Active, h.Containers, len(h.Daemons)))
			}
			if s := strings.Join(got, " "); s != tc.want {
				t.Errorf("hosts %q, want %q (%s)", s, tc.want, body)
			}
		})
	}

	t.Run("redis gone", func(t *testing.T) {
		srv.Kill(t)
		code, body := get(t, url+"/api/v1/hosts", "")
		if code != http.StatusServiceUnavailable || strings.Contains(body, srv.Addr()) {
			t.Errorf("with Redis gone: %d %q, want 503 naming no address", code, body)
		}
	})
}
