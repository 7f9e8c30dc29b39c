package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/daemontest"
	"github.com/hemostat/hemostat/sdk"
	"github.com/redis/go-redis/v9"
)

func TestVersionAndPluginsCommands(t *testing.T) {
	bin, pluginDir := build(t)
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "hemostatd ") {
		t.Fatalf("version: %v %q", err, out)
	}

	cfg := filepath.Join(t.TempDir(), "hemostat.hcl")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("plugin_dir = %q\n", pluginDir)), 0o600); err != nil {
		t.Fatal(err)
	}
	// A file that is not a plugin is reported, not fatal.
	junk := filepath.Join(pluginDir, "hemostat-nonsense")
	if err := os.WriteFile(junk, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(junk)

	cmd := exec.Command(bin, "plugins", "-config", cfg)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("plugins: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	// Every built-in and every dropped-in plugin answers with its version
	// and protocol version 1, with a checksum.
	for _, want := range []string{
		`(?m)^analyzer\s+threshold\s+dev\s+1\s+built-in\s+[0-9a-f]{12}$`,
		`(?m)^monitor\s+docker\s+dev\s+1\s+built-in\s+[0-9a-f]{12}$`,
		`(?m)^responder\s+docker\s+dev\s+1\s+built-in\s+[0-9a-f]{12}$`,
		`(?m)^analyzer\s+maintenance\s+\S+\s+1\s+\S+hemostat-analyzer-maintenance\s+[0-9a-f]{12}$`,
		`(?m)^monitor\s+script\s+test\s+1\s+\S+hemostat-monitor-script\s+[0-9a-f]{12}$`,
	} {
		if !regexp.MustCompile(want).MatchString(stdout.String()) {
			t.Errorf("plugins output lacks %s:\n%s", want, stdout.String())
		}
	}
	if !strings.Contains(stderr.String(), "hemostat-nonsense") {
		t.Errorf("the junk file was not reported: %q", stderr.String())
	}
}

// TestEmbeddedRedis runs hemostatd with no Redis address: it starts its
// own on loopback and the whole flow runs through it.
func TestEmbeddedRedis(t *testing.T) {
	_, pluginDir := build(t)
	httpAddr := daemontest.FreeAddr(t)
	cfg := strings.NewReplacer(`redis { address = "{{redis}}" }`, "", "{{http}}", httpAddr, "{{plugins}}", pluginDir).Replace(baseConfig)
	d := daemontest.Start(t, daemontest.Options{Config: cfg, HTTP: httpAddr})
	// SIGINT stops it as cleanly as SIGTERM.
	defer func() {
		if err := d.StopWith(os.Interrupt); err != nil {
			t.Errorf("hemostatd exited with %v after SIGINT", err)
		}
	}()
	addr := regexp.MustCompile(`started embedded redis.*address=(127\.0\.0\.1:\d+)`)
	var rdb *redis.Client
	deadline := time.Now().Add(30 * time.Second)
	for rdb == nil {
		if m := addr.FindStringSubmatch(d.Logs()); m != nil {
			rdb = redis.NewClient(&redis.Options{Addr: m[1]})
			defer rdb.Close()
		} else if time.Now().After(deadline) {
			t.Fatalf("no embedded redis address in the log:\n%s", d.Logs())
		} else {
			time.Sleep(50 * time.Millisecond)
		}
	}
	w := daemontest.Watch(t, rdb)
	script(t, rdb, sdk.Sample{Container: "solo", Status: "exited", Event: sdk.EventDie, ExitCode: 1})
	done := w.WaitFor(t, protocol.TypeRemediationComplete, "solo", daemontest.StatusIs("success"), 20*time.Second)
	checkEventLog(t, rdb, done, protocol.TypeRemediationComplete)
}
