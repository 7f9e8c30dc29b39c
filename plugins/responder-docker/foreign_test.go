package dockerresponder

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/hemostat/hemostat/sdk"
)

// TestUnexplained: our own calls explain their own events, nearest first
// and within their budget; what is left is another client's.
func TestUnexplained(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	// Our restart of a running container took 300 ms.
	restart := ownCall{action: sdk.ActionRestart, running: true, began: at(0), ended: at(300)}
	// Our restart of an exited container: start, restart only.
	restartExited := ownCall{action: sdk.ActionRestart, began: at(0), ended: at(300)}
	ours := []engineEvent{{evKill, at(10)}, {evStop, at(120)}, {evRestart, at(290)}}
	cases := []struct {
		name      string
		evs       []engineEvent
		calls     []ownCall
		wantKind  string
		wantCount int
	}{
		{"our restart alone", ours, []ownCall{restart}, "", 0},
		{"our restart that needed the SIGKILL", append(ours, engineEvent{evKill, at(200)}), []ownCall{restart}, "", 0},
		{"a restart 0.4 s before ours", append([]engineEvent{{evKill, at(-400)}, {evStop, at(-300)}, {evRestart, at(-250)}}, ours...),
			[]ownCall{restart}, evRestart, 1},
		{"a restart racing ours", append(ours, engineEvent{evRestart, at(295)}), []ownCall{restart}, evRestart, 1},
		{"a stop 2 s after ours", append(ours, engineEvent{evKill, at(2000)}, engineEvent{evStop, at(2100)}), []ownCall{restart}, evStop, 1},
		{"a kill 1.5 s after ours", append(ours, engineEvent{evKill, at(1800)}), []ownCall{restart}, evKill, 1},
		{"our restart of an exited container alone", []engineEvent{{evRestart, at(290)}}, []ownCall{restartExited}, "", 0},
		{"another client's restart of the container ours had just started",
			[]engineEvent{{evRestart, at(290)}, {evKill, at(900)}, {evStop, at(1000)}, {evRestart, at(1200)}},
			[]ownCall{restartExited}, evRestart, 1},
		{"our kill alone", []engineEvent{{evKill, at(5)}}, []ownCall{{action: sdk.ActionKill, began: at(0), ended: at(50)}}, "", 0},
		{"our start of a stopped container next to a restart", []engineEvent{{evRestart, at(20)}},
			[]ownCall{{action: sdk.ActionStart, began: at(0), ended: at(50)}}, evRestart, 1},
		{"two restarts of another client between two of ours",
			[]engineEvent{{evRestart, at(290)}, {evRestart, at(1500)}, {evRestart, at(1700)}, {evRestart, at(4010)}},
			[]ownCall{restart, {action: sdk.ActionRestart, running: true, began: at(4000), ended: at(4020)}}, evRestart, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			kind, n, _ := foreignOps(unexplained(c.evs, c.calls))
			if kind != c.wantKind || n != c.wantCount {
				t.Fatalf("foreign %q ×%d, want %q ×%d", kind, n, c.wantKind, c.wantCount)
			}
		})
	}
}

func TestForeignMessage(t *testing.T) {
	fa := sdk.ForeignAction{Container: "web-1", Action: evRestart, Count: 1, Ours: sdk.ActionRestart, OffsetSeconds: -0.4}
	msg := foreignMessage(fa)
	for _, want := range []string{"container web-1 was restarted by another client 0.40 s before our restart", "another healer", "hemostat.enable=false"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
}

// TestForeignOnEngine: a container restarted by another client while this
// responder restarts it is reported once, as a restart by another client;
// one restarted by the responder alone is not reported.
func TestForeignOnEngine(t *testing.T) {
	t.Parallel()
	d := newDockerTest(t)
	host := sdk.NewMemoryHost()
	r := New()
	if err := r.Configure(d.ctx, json.RawMessage(`{"stop_timeout":"2s"}`), host); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Shutdown(context.Background()) })
	contested := d.sickapp("contested", container.Config{}, container.HostConfig{}, "--idle")
	alone := d.sickapp("alone", container.Config{}, container.HostConfig{}, "--idle")

	// The other client restarts the contested container, then we do.
	timeout := 2
	if err := d.cli.ContainerRestart(d.ctx, contested, container.StopOptions{Timeout: &timeout}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{contested, alone} {
		res := d.remediate(r, sdk.RemediateRequest{Container: name, Action: sdk.ActionRestart, Reason: "unhealthy", Confidence: 0.9,
			Params: map[string]string{ParamTrigger: TriggerLifecycle}})
		wantStatus(t, res, sdk.StatusSuccess, "")
	}
	// Both sessions end foreignWindow after our last call.
	for {
		r.foreign.mu.Lock()
		open := len(r.foreign.sessions)
		r.foreign.mu.Unlock()
		if open == 0 {
			break
		}
		select {
		case <-d.ctx.Done():
			t.Fatal("sessions never closed")
		case <-time.After(100 * time.Millisecond):
		}
	}
	var got []sdk.ForeignAction
	for _, e := range host.Events() {
		if e.Type != sdk.EventForeignAction {
			t.Errorf("published %s, want only %s", e.Type, sdk.EventForeignAction)
			continue
		}
		var fa sdk.ForeignAction
		if err := json.Unmarshal(e.Data, &fa); err != nil {
			t.Fatal(err)
		}
		got = append(got, fa)
	}
	if len(got) != 1 || got[0].Container != contested || got[0].Action != evRestart || got[0].Count != 1 ||
		got[0].OffsetSeconds >= 0 || got[0].Ours != sdk.ActionRestart {
		t.Fatalf("foreign actions %+v, want one restart of %s before ours, none of %s", got, contested, alone)
	}
	t.Logf("%s", got[0].Message)
}
