package e2e

import (
	"bufio"
	"context"
	"errors"
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
	"github.com/hemostat/hemostat/internal/testenv"
)

// TestStatusFindsEmbeddedRedis: `hemostatd status` finds a running
// daemon's embedded Redis through the address file in data_dir, lists the
// daemon's heartbeat and plugins, and says where to look once it stopped.
func TestStatusFindsEmbeddedRedis(t *testing.T) {
	bin, pluginDir := build(t)
	dataDir := t.TempDir()
	httpAddr := daemontest.FreeAddr(t)
	cfg := strings.NewReplacer(`redis { address = "{{redis}}" }`, fmt.Sprintf("data_dir = %q", dataDir), "{{http}}", httpAddr, "{{plugins}}", pluginDir).Replace(baseConfig)
	d := daemontest.Start(t, daemontest.Options{Config: cfg, HTTP: httpAddr})
	// The commands need only data_dir (and the Redis password, if any).
	cliCfg := filepath.Join(t.TempDir(), "cli.hcl")
	if err := os.WriteFile(cliCfg, []byte(fmt.Sprintf("data_dir = %q\n", dataDir)), 0o600); err != nil {
		t.Fatal(err)
	}
	addrFile := filepath.Join(dataDir, "redis.addr")
	embedded := regexp.MustCompile(`started embedded redis.*address=(127\.0\.0\.1:\d+)`).FindStringSubmatch(d.Logs())
	if embedded == nil {
		t.Fatalf("no embedded redis address in the log:\n%s", d.Logs())
	}
	var out string
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := exec.Command(bin, "status", "-config", cliCfg).CombinedOutput()
		out = string(b)
		if err == nil && strings.Contains(out, "monitor/script  running") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status: %v\n%s", err, out)
		}
		time.Sleep(500 * time.Millisecond)
	}
	for _, want := range []string{
		embedded[1] + " reachable (from " + addrFile + ")",
		"embedded redis " + embedded[1],
		"http " + httpAddr,
		"analyzer/threshold  running",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	if b, err := exec.Command(bin, "events", "-config", cliCfg).CombinedOutput(); err != nil {
		t.Errorf("events: %v\n%s", err, b)
	}
	if err := d.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if _, err := os.Stat(addrFile); !os.IsNotExist(err) {
		t.Errorf("the address file outlived the daemon: %v", err)
	}
	b, err := exec.Command(bin, "status", "-config", cliCfg).CombinedOutput()
	if err == nil || !strings.Contains(string(b), addrFile) {
		t.Errorf("status with the daemon stopped: %v\n%s, want an error naming %s", err, b, addrFile)
	}
}

// TestStatusAndEventsWithoutDaemon runs the commands against a real
// redis-server with no hemostatd at all.
func TestStatusAndEventsWithoutDaemon(t *testing.T) {
	bin := daemontest.Hemostatd(t)
	srv := testenv.StartRedis(t)
	c := srv.Client(t)
	ctx := context.Background()
	env := func(typ, container string) string {
		return `{"timestamp":"` + protocol.FormatTimestamp(time.Now()) + `","agent":"t","type":"` + typ + `","data":{"container":"` + container + `","reason":"r"}}`
	}
	c.Set(ctx, protocol.EventLogKey(protocol.TypeFalseAlarm), "["+env(protocol.TypeFalseAlarm, "web")+"]", time.Hour)
	c.Set(ctx, protocol.StatsKey("web"), `{"name":"web","status":"running","cpu_pct":1,"memory_pct":2,"timestamp":"`+time.Now().UTC().Format(protocol.StatsTimestampFormat)+`"}`, time.Minute)

	out, err := exec.Command(bin, "status", "-redis", srv.Addr()).CombinedOutput()
	if err != nil {
		t.Fatalf("status: %v\n%s", err, out)
	}
	for _, want := range []string{srv.Addr() + " reachable (from -redis)", "daemons  none", "1 container(s)", "web        running"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	out, err = exec.Command(bin, "events", "-redis", srv.Addr(), "-json").Output()
	if err != nil || strings.Count(string(out), "\n") != 1 || !strings.Contains(string(out), `"type":"false_alarm"`) {
		t.Errorf("events -json: %v %q", err, out)
	}
	if err := exec.Command(bin, "events", "-redis", srv.Addr(), "-type", "lunch").Run(); exitCode(err) != 2 {
		t.Errorf("an unknown type: %v, want exit 2", err)
	}
	out, err = exec.Command(bin, "status", "-redis", "127.0.0.1:1").CombinedOutput()
	if exitCode(err) != 1 || !strings.Contains(string(out), "redis unreachable") {
		t.Errorf("no redis: %v %q", err, out)
	}

	// -follow prints the log, then what is published for the container.
	cmd := exec.Command(bin, "events", "-redis", srv.Addr(), "-follow", "-container", "api")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(30 * time.Second)
	for {
		// Published until the subscription is up and the line shows.
		c.Publish(ctx, protocol.Channel(protocol.TypeEscalation), env(protocol.TypeEscalation, "web"))
		c.Publish(ctx, protocol.Channel(protocol.TypeEscalation), env(protocol.TypeEscalation, "api"))
		select {
		case line := <-lines:
			if !strings.Contains(line, "escalation") || !strings.Contains(line, " api ") || strings.Contains(line, "web") {
				t.Errorf("followed line %q, want api's escalation only", line)
			}
			cmd.Process.Signal(os.Interrupt)
			if err := cmd.Wait(); err != nil {
				t.Errorf("events -follow after SIGINT: %v", err)
			}
			return
		case <-deadline:
			t.Fatal("events -follow printed nothing")
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}
