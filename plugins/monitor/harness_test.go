package monitor

import (
	"context"
	"errors"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/hemostat/hemostat/sdk"
)

// TestOverGRPC runs the plugin behind the SDK's real gRPC path, as
// hemostatd does, and follows a crash from the engine to the host.
func TestOverGRPC(t *testing.T) {
	cli := testenv.Docker(t)
	h := sdk.NewHarness(t, New())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var cerrs sdk.ConfigErrors
	if err := h.Configure(ctx, map[string]any{"sampler": "fast", "interval": "1ms"}); !errors.As(err, &cerrs) || len(cerrs) != 2 {
		t.Fatalf("Configure with two bad settings = %v, want two ConfigErrors", err)
	}
	if err := h.Configure(ctx, map[string]any{"interval": "1s", "log_tail_lines": 3}); err != nil {
		t.Fatalf("Configure: %v", err)
	}

	rec := newRecorder()
	done := make(chan error, 1)
	go func() { done <- h.Monitor().Watch(ctx, rec.emit) }()
	name, _ := runSickapp(t, cli, container.Config{Labels: map[string]string{"hemostat.cpu_pct": "75"}}, nil,
		"--log", "api_key=abc123", "--exit", "2", "--after", "1s")

	die := rec.waitFor(t, name, eventTimeout, "die", event(sdk.EventDie))
	if die.ExitCode != 2 || die.Labels["hemostat.cpu_pct"] != "75" || len(die.LogTail) != 1 || die.LogTail[0] != "api_key=[REDACTED]" {
		t.Errorf("die over gRPC = %+v, want exit 2, labels and the redacted log tail", die)
	}
	if die.Time.IsZero() || die.StartedAt.IsZero() {
		t.Errorf("die over gRPC lost its times: %+v", die)
	}

	if err := h.Client.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	// Shutdown ends the plugin's Watch, which closes the stream cleanly.
	if err := <-done; err != nil {
		t.Errorf("Watch after Shutdown = %v, want nil", err)
	}
}
