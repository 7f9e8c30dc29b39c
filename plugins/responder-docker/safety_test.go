package dockerresponder

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/hemostat/hemostat/sdk"
)

func TestSkipsStoppedByAPerson(t *testing.T) {
	t.Parallel()
	d := newDockerTest(t)
	r := d.responder(nil)
	tests := []struct {
		name   string
		policy container.RestartPolicyMode
		stop   func(id string) error
		status string
	}{
		{
			name: "docker stop", policy: container.RestartPolicyDisabled, status: sdk.StatusSkipped,
			stop: func(id string) error { return d.cli.ContainerStop(d.ctx, id, container.StopOptions{}) },
		},
		{
			name: "docker kill", policy: container.RestartPolicyDisabled, status: sdk.StatusSkipped,
			stop: func(id string) error { return d.cli.ContainerKill(d.ctx, id, "SIGKILL") },
		},
		{
			name: "docker stop under unless-stopped", policy: container.RestartPolicyUnlessStopped, status: sdk.StatusSkipped,
			stop: func(id string) error { return d.cli.ContainerStop(d.ctx, id, container.StopOptions{}) },
		},
		{
			// A program that exits on its own was not stopped: restarted.
			name: "exit on its own", policy: container.RestartPolicyDisabled, status: sdk.StatusSuccess,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := *d
			d.t = t
			args := []string{"--idle"}
			if tt.stop == nil {
				args = []string{"--exit", "0", "--after", "500ms"}
			}
			name := d.sickapp("app", container.Config{}, container.HostConfig{RestartPolicy: container.RestartPolicy{Name: tt.policy}}, args...)
			if tt.stop != nil {
				if err := tt.stop(name); err != nil {
					t.Fatal(err)
				}
			}
			d.waitExited(name)
			res := d.remediate(r, sdk.RemediateRequest{Container: name, Action: sdk.ActionRestart})
			want := ""
			if tt.status == sdk.StatusSkipped {
				want = "stopped on purpose"
			}
			wantStatus(t, res, tt.status, want)
		})
	}
}

func TestSkipsRestartingByDocker(t *testing.T) {
	t.Parallel()
	d := newDockerTest(t)
	r := d.responder(nil)
	name := d.sickapp("app", container.Config{}, container.HostConfig{RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyAlways}},
		"--exit", "1")
	// The engine's back-off doubles from 100ms: after four restarts the
	// container spends over a second restarting for each millisecond it
	// runs, so the responder finds it restarting.
	d.waitFor(name, "restarting after a few crashes", func(c container.InspectResponse) bool {
		return c.State.Restarting && c.RestartCount >= 4
	})
	res := d.remediate(r, sdk.RemediateRequest{Container: name, Action: sdk.ActionRestart})
	wantStatus(t, res, sdk.StatusSkipped, `restart policy "always" is already restarting it`)
}

func TestStartGrace(t *testing.T) {
	t.Parallel()
	d := newDockerTest(t)
	r := d.responder(map[string]any{"start_grace": "1h"})
	name := d.sickapp("app", container.Config{}, container.HostConfig{})

	res := d.remediate(r, sdk.RemediateRequest{Container: name, Action: sdk.ActionRestart, Params: map[string]string{ParamTrigger: TriggerResource}})
	wantStatus(t, res, sdk.StatusSkipped, "within start_grace 1h0m0s")
	// Without a trigger, a running healthy container's restart is taken
	// for a resource threshold.
	res = d.remediate(r, sdk.RemediateRequest{Container: name, Action: sdk.ActionRestart})
	wantStatus(t, res, sdk.StatusSkipped, "within start_grace")
	// An exit, OOM or failing healthcheck is acted on at once.
	res = d.remediate(r, sdk.RemediateRequest{Container: name, Action: sdk.ActionRestart, Params: map[string]string{ParamTrigger: TriggerLifecycle}})
	wantStatus(t, res, sdk.StatusSuccess, "")
	res = d.remediate(r, sdk.RemediateRequest{Container: name, Action: sdk.ActionRestart, Params: map[string]string{ParamTrigger: "cpu"}})
	wantStatus(t, res, sdk.StatusRejected, "trigger")
}

// TestRemovedMidAction removes a container while its restart waits for the
// program to stop; the responder reports it gone.
func TestRemovedMidAction(t *testing.T) {
	t.Parallel()
	d := newDockerTest(t)
	r := d.responder(nil)
	// The Go runtime ignores SIGWINCH, so the stop waits the full timeout.
	name := d.sickapp("app", container.Config{StopSignal: "SIGWINCH", Labels: map[string]string{LabelStopTimeout: "30"}}, container.HostConfig{})
	id := d.inspect(name).ID

	ctx, cancel := context.WithCancel(d.ctx)
	defer cancel()
	// Since now: the subscription is made in the background, and a kill
	// before it is in place must not be missed.
	since := time.Now()
	msgs, errs := d.cli.Events(ctx, events.ListOptions{Since: fmt.Sprintf("%d.%09d", since.Unix(), since.Nanosecond()),
		Filters: filters.NewArgs(filters.Arg("container", id), filters.Arg("event", string(events.ActionKill)))})
	removed := make(chan error, 1)
	go func() {
		select {
		case <-msgs: // the restart's stop signal: the restart is under way
			removed <- d.cli.ContainerRemove(context.Background(), id, container.RemoveOptions{Force: true})
		case err := <-errs:
			removed <- err
		}
	}()

	res := d.remediate(r, sdk.RemediateRequest{Container: name, Action: sdk.ActionRestart, Params: map[string]string{ParamTrigger: TriggerLifecycle}})
	if err := <-removed; err != nil {
		t.Fatalf("remove during restart: %v", err)
	}
	wantStatus(t, res, sdk.StatusFailed, "container "+name+" no longer exists")
	if res.StateAfter != stateRemoved {
		t.Errorf("StateAfter %q, want %q", res.StateAfter, stateRemoved)
	}
}

func TestUnknownContainerAndAction(t *testing.T) {
	t.Parallel()
	d := newDockerTest(t)
	r := d.responder(nil)
	res := d.remediate(r, sdk.RemediateRequest{Container: d.name("absent"), Action: sdk.ActionRestart})
	wantStatus(t, res, sdk.StatusFailed, "no longer exists")
	res = d.remediate(r, sdk.RemediateRequest{Container: d.name("absent"), Action: "reboot"})
	wantStatus(t, res, sdk.StatusNotApplicable, `unknown action "reboot"`)
	res = d.remediate(r, sdk.RemediateRequest{Action: sdk.ActionRestart})
	wantStatus(t, res, sdk.StatusRejected, "no container")

	var unconfigured Responder
	res, err := unconfigured.Remediate(d.ctx, sdk.RemediateRequest{Container: "x", Action: sdk.ActionRestart})
	if err != nil || res.Status != sdk.StatusFailed {
		t.Errorf("unconfigured responder: %+v, %v; want a failed result", res, err)
	}
}
