package e2e

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/daemontest"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/hemostat/hemostat/sdk"
	"github.com/redis/go-redis/v9"
)

// pluginBinaries maps a plugin's file name in the plugin directory to the
// package it is built from.
var pluginBinaries = map[string]string{
	"hemostat-monitor-script":       "github.com/hemostat/hemostat/internal/e2e/plugins/monitor-script",
	"hemostat-responder-record":     "github.com/hemostat/hemostat/internal/e2e/plugins/responder-record",
	"hemostat-alert-record":         "github.com/hemostat/hemostat/internal/e2e/plugins/alert-record",
	"hemostat-analyzer-maintenance": "github.com/hemostat/hemostat/examples/analyzer-maintenance",
}

func TestMain(m *testing.M) {
	code := m.Run()
	daemontest.Cleanup()
	os.Exit(code)
}

// build compiles hemostatd and the plugins once; the plugin directory holds
// the custom plugins exactly as a user would drop them in.
func build(t testing.TB) (hemostatd, pluginDir string) {
	t.Helper()
	return daemontest.Hemostatd(t), daemontest.Binaries(t, pluginBinaries)
}

// daemon is one hemostatd process under test with a client of its Redis.
type daemon struct {
	*daemontest.Daemon
	rdb *redis.Client
}

// startDaemon runs hemostatd until the test ends on cfgTemplate with the
// redis address, a free HTTP address and the plugin directory filled in for
// {{redis}}, {{http}} and {{plugins}}.
func startDaemon(t testing.TB, srv *testenv.RedisServer, cfgTemplate string) *daemon {
	t.Helper()
	_, pluginDir := build(t)
	httpAddr := daemontest.FreeAddr(t)
	cfg := strings.NewReplacer("{{redis}}", srv.Addr(), "{{http}}", httpAddr, "{{plugins}}", pluginDir).Replace(cfgTemplate)
	return &daemon{
		Daemon: daemontest.Start(t, daemontest.Options{Config: cfg, HTTP: httpAddr}),
		rdb:    srv.Client(t),
	}
}

// waitSubscribed waits until hemostatd listens on the channel of each
// event type.
func (d *daemon) waitSubscribed(t testing.TB, eventTypes ...string) {
	t.Helper()
	daemontest.WaitSubscribed(t, d.rdb, eventTypes...)
}

// script appends samples to the scripted monitor's script.
func script(t testing.TB, rdb *redis.Client, samples ...sdk.Sample) {
	t.Helper()
	ctx := context.Background()
	key := protocol.StateKey("e2e-script")
	var cur struct {
		Samples []sdk.Sample `json:"samples"`
	}
	if raw, err := rdb.Get(ctx, key).Bytes(); err == nil {
		if err := json.Unmarshal(raw, &cur); err != nil {
			t.Fatal(err)
		}
	}
	cur.Samples = append(cur.Samples, samples...)
	raw, _ := json.Marshal(cur)
	if err := rdb.Set(ctx, key, raw, 0).Err(); err != nil {
		t.Fatal(err)
	}
}
