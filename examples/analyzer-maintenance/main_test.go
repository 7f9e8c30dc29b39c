package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hemostat/hemostat/sdk"
)

var cases = []struct {
	container string
	want      sdk.Decision
}{
	{"batch-nightly", sdk.Decision{Verdict: sdk.VerdictFalseAlarm, Confidence: 1, Reason: "in maintenance: name starts with batch-"}},
	{"batch-", sdk.Decision{Verdict: sdk.VerdictFalseAlarm, Confidence: 1, Reason: "in maintenance: name starts with batch-"}},
	{"api", sdk.Decision{Verdict: sdk.VerdictAbstain, Reason: "not in maintenance"}},
	{"nightly-batch-", sdk.Decision{Verdict: sdk.VerdictAbstain, Reason: "not in maintenance"}},
	{"Batch-nightly", sdk.Decision{Verdict: sdk.VerdictAbstain, Reason: "not in maintenance"}},
}

func alert(container string) sdk.AnalyzeRequest {
	return sdk.AnalyzeRequest{Alert: sdk.Alert{Container: container, Issues: []string{"Exited with code 1"}, Time: time.Now()}}
}

// TestHarness runs the plugin in-process over real gRPC.
func TestHarness(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h := sdk.NewHarness(t, &maintenance{})

	if d, err := h.Analyzer().Analyze(ctx, alert("batch-nightly")); err != nil || d.Verdict != sdk.VerdictAbstain {
		t.Fatalf("before Configure: %+v, %v; want abstain", d, err)
	}
	var cerrs sdk.ConfigErrors
	if err := h.Configure(ctx, map[string]any{}); !errors.As(err, &cerrs) || cerrs[0].Key != "prefix" {
		t.Fatalf("Configure without prefix: %v, want an error on prefix", err)
	}
	if err := h.Configure(ctx, map[string]any{"prefix": "batch-", "suffix": "x"}); !errors.As(err, &cerrs) || cerrs[0] != (sdk.ConfigError{Key: "suffix", Message: "unknown setting"}) {
		t.Fatalf("Configure with an unknown key: %v", err)
	}
	if err := h.Configure(ctx, map[string]any{"prefix": "batch-"}); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	for _, tc := range cases {
		d, err := h.Analyzer().Analyze(ctx, alert(tc.container))
		if err != nil || d != tc.want {
			t.Errorf("%s: got %+v, %v; want %+v", tc.container, d, err, tc.want)
		}
	}
}

// TestBuiltBinary builds the plugin as its own binary, named as hemostatd
// expects in its plugin directory, and talks to it as hemostatd does.
func TestBuiltBinary(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go tool is needed to build the plugin: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "hemostat-analyzer-maintenance")
	build := exec.Command(goTool, "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  sdk.Handshake,
		VersionedPlugins: sdk.VersionedPlugins(),
		Cmd:              exec.Command(bin),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		Logger:           hclog.New(&hclog.LoggerOptions{Output: os.Stderr, Level: hclog.Warn}),
	})
	t.Cleanup(client.Kill)
	rpc, err := client.Client()
	if err != nil {
		t.Fatalf("start plugin: %v", err)
	}
	raw, err := rpc.Dispense(sdk.RoleAnalyzer)
	if err != nil {
		t.Fatalf("dispense: %v", err)
	}
	an := raw.(*sdk.AnalyzerClient)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := an.Info(ctx)
	if err != nil || info.Role != sdk.RoleAnalyzer || info.Name != "maintenance" {
		t.Fatalf("Info: %+v, %v", info, err)
	}
	if err := an.Configure(ctx, []byte(`{"prefix": "batch-"}`), sdk.NewMemoryHost()); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	for _, tc := range cases {
		d, err := an.Analyze(ctx, alert(tc.container))
		if err != nil || d != tc.want {
			t.Errorf("%s: got %+v, %v; want %+v", tc.container, d, err, tc.want)
		}
	}
	if err := an.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}
