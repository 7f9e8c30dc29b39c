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

// TestForeignIn: a session is judged on the events within foreignWindow of
// its own calls, each explained by any call of ours still remembered. A
// session kept open by a crash loop spans many windows; its first
// restart's events must not be reported against its last restart once the
// first has been forgotten — the warning of "an event 13.5 s before our
// restart" that was our own restart.
func TestForeignIn(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	restartAt := func(ms int) ownCall {
		return ownCall{action: sdk.ActionRestart, running: true, began: at(ms), ended: at(ms + 300)}
	}
	// eventsOf is what our restart of a running container at ms makes.
	eventsOf := func(ms int) []engineEvent {
		return []engineEvent{{evKill, at(ms + 10)}, {evStop, at(ms + 120)}, {evRestart, at(ms + 290)}}
	}
	join := func(parts ...[]engineEvent) []engineEvent {
		var all []engineEvent
		for _, p := range parts {
			all = append(all, p...)
		}
		return all
	}
	loop := []ownCall{restartAt(0), restartAt(4500), restartAt(9000), restartAt(13500)}
	cases := []struct {
		name       string
		evs        []engineEvent
		session    []ownCall
		known      []ownCall
		wantKind   string
		wantCount  int
		wantOffset float64
	}{
		{"a crash loop's restarts in one session, the first ones forgotten",
			join(eventsOf(0), eventsOf(4500), eventsOf(9000), eventsOf(13500)),
			loop, loop[2:], "", 0, 0},
		{"an event 13.5 s before our restart, outside its window",
			join([]engineEvent{{evRestart, at(0)}}, eventsOf(13500)),
			[]ownCall{restartAt(13500)}, nil, "", 0, 0},
		{"another client's restart 6 s before ours: outside the window",
			join([]engineEvent{{evKill, at(-6000)}, {evStop, at(-5900)}, {evRestart, at(-5800)}}, eventsOf(0)),
			[]ownCall{restartAt(0)}, nil, "", 0, 0},
		{"another client's restart 4 s before ours",
			join([]engineEvent{{evKill, at(-4200)}, {evStop, at(-4100)}, {evRestart, at(-4000)}}, eventsOf(0)),
			[]ownCall{restartAt(0)}, nil, evRestart, 1, -4},
		{"another client's restart 4.5 s after ours returned",
			join(eventsOf(0), []engineEvent{{evKill, at(4600)}, {evStop, at(4700)}, {evRestart, at(4800)}}),
			[]ownCall{restartAt(0)}, nil, evRestart, 1, 4.5},
		{"another client's stop between two restarts of a crash loop",
			join(eventsOf(0), eventsOf(4500), eventsOf(9000), eventsOf(13500), []engineEvent{{evKill, at(11000)}, {evStop, at(11100)}}),
			loop, loop[2:], evStop, 1, 1.8},
		{"the previous session's restart explains this one's first moments",
			join([]engineEvent{{evRestart, at(-4900)}}, eventsOf(0)),
			[]ownCall{restartAt(0)}, []ownCall{{action: sdk.ActionRestart, began: at(-5300), ended: at(-5000)}}, "", 0, 0},
		{"a removal in the session: a person's work",
			join([]engineEvent{{evRestart, at(-1000)}}, eventsOf(0), []engineEvent{{evKill, at(2000)}, {evDestroy, at(2100)}}),
			[]ownCall{restartAt(0)}, nil, "", 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fa, ok := foreignIn(c.evs, c.session, c.known)
			if !ok {
				if c.wantCount != 0 {
					t.Fatalf("nothing reported, want %q ×%d", c.wantKind, c.wantCount)
				}
				return
			}
			if fa.Action != c.wantKind || fa.Count != c.wantCount || fa.OffsetSeconds != c.wantOffset {
				t.Fatalf("foreign %q ×%d at %+.2f s, want %q ×%d at %+.2f s", fa.Action, fa.Count, fa.OffsetSeconds,
					c.wantKind, c.wantCount, c.wantOffset)
			}
		})
	}
}

// TestForeignPrune: the subscription's events are kept foreignWindow, and
// from an open session's start while it lasts.
func TestForeignPrune(t *testing.T) {
	now := time.Unix(1000, 0)
	w := newForeignWatch(sdk.Logger("test"))
	w.now = func() time.Time { return now }
	w.recent["open"] = []engineEvent{{evKill, now.Add(-9 * time.Second)}, {evKill, now.Add(-7 * time.Second)}}
	w.recent["idle"] = []engineEvent{{evKill, now.Add(-9 * time.Second)}, {evKill, now.Add(-time.Second)}}
	w.recent["gone"] = []engineEvent{{evKill, now.Add(-time.Minute)}}
	w.sessions["open"] = &foreignSession{id: "open", from: now.Add(-8 * time.Second)}
	w.prune()
	for id, want := range map[string]int{"open": 1, "idle": 1, "gone": 0} {
		if got := len(w.recent[id]); got != want {
			t.Errorf("%s: %d events kept, want %d", id, got, want)
		}
	}
	if _, ok := w.recent["gone"]; ok {
		t.Error("a container with no recent events is still held")
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
	// Ours follows a moment later, as a second healer's would: right
	// after it, the two are milliseconds apart and the offset rounds to 0.
	time.Sleep(100 * time.Millisecond)
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
