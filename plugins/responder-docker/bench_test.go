package dockerresponder

import (
	"context"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/hemostat/hemostat/sdk"
)

// BenchmarkStopEvidence measures what the stopped-on-purpose check adds to
// a restart of an exited container: one event-log query, against the
// inspect every action starts with as the baseline. Compare the two
// sub-benchmarks' ns/op; absolute figures depend on the machine.
func BenchmarkStopEvidence(b *testing.B) {
	cli := testenv.Docker(b)
	ctx := context.Background()
	cfg := container.Config{Image: testenv.TestImage(b), Cmd: []string{"--exit", "0"}}
	id := testenv.RunContainer(b, cli, "hsrd-bench-stop-evidence", &cfg, nil)
	waitC, errC := cli.ContainerWait(ctx, id, container.WaitConditionNotRunning)
	select {
	case <-waitC:
	case err := <-errC:
		b.Fatal(err)
	}
	target, err := cli.ContainerInspect(ctx, id)
	if err != nil {
		b.Fatal(err)
	}
	c := &call{req: sdk.RemediateRequest{Action: sdk.ActionRestart}, cfg: DefaultConfig(), cli: cli, target: target}

	b.Run("baseline=inspect", func(b *testing.B) {
		for b.Loop() {
			if _, err := cli.ContainerInspect(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("event-log", func(b *testing.B) {
		for b.Loop() {
			if how := stopEvent(ctx, c, time.Now()); how != "" {
				b.Fatalf("found %q for a container that exited on its own", how)
			}
		}
	})
}

// BenchmarkForeignBegin measures what following a container for another
// healer adds to an action's own path: begin and end, under the one
// long-lived events subscription Configure starts, against the inspect
// every action starts with as the baseline. Compare the two
// sub-benchmarks' ns/op.
func BenchmarkForeignBegin(b *testing.B) {
	cli := testenv.Docker(b)
	ctx := context.Background()
	cfg := container.Config{Image: testenv.TestImage(b), Cmd: []string{"--idle"}}
	id := testenv.RunContainer(b, cli, "hsrd-bench-foreign-begin", &cfg, nil)
	w := newForeignWatch(sdk.Logger("bench"))
	w.start(cli)
	b.Cleanup(w.stop)
	req := sdk.RemediateRequest{Container: id, Action: sdk.ActionRestart}

	b.Run("baseline=inspect", func(b *testing.B) {
		for b.Loop() {
			if _, err := cli.ContainerInspect(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("begin+end", func(b *testing.B) {
		for b.Loop() {
			// A skipped result: nothing was done, so the session ends at
			// once and the next begin opens a new one.
			w.begin(cli, id, "bench", true, req).end(sdk.Result{Status: sdk.StatusSkipped})
		}
	})
}
