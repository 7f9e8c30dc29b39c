package dockerresponder

import (
	"fmt"
	"os"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/hemostat/hemostat/sdk"
)

func TestCleanupRemovesExitedSiblingsOnly(t *testing.T) {
	t.Parallel()
	d := newDockerTest(t)
	project := fmt.Sprintf("hsrd-cleanup-%d", os.Getpid())
	compose := func(project, service string) container.Config {
		return container.Config{Labels: map[string]string{LabelComposeProject: project, LabelComposeService: service}}
	}
	exited := func(suffix string, cfg container.Config) string {
		name := d.sickapp(suffix, cfg, container.HostConfig{}, "--exit", "0")
		d.waitExited(name)
		return name
	}

	target := d.sickapp("target", compose(project, "web"), container.HostConfig{})
	runningSibling := d.sickapp("running", compose(project, "web"), container.HostConfig{})
	exitedSibling := exited("exited", compose(project, "web"))
	otherService := exited("db", compose(project, "db"))
	otherProject := exited("elsewhere", compose(project+"-other", "web"))
	unlabelled := exited("plain", container.Config{})

	dry := d.remediate(d.responder(nil), sdk.RemediateRequest{Container: target, Action: sdk.ActionCleanup, DryRun: true})
	wantStatus(t, dry, sdk.StatusDryRun, "")
	if want := "remove " + exitedSibling; dry.Details["would"] != want {
		t.Errorf("dry run would %q, want %q", dry.Details["would"], want)
	}

	res := d.remediate(d.responder(map[string]any{"cleanup_volumes": true}), sdk.RemediateRequest{Container: target, Action: sdk.ActionCleanup})
	wantStatus(t, res, sdk.StatusSuccess, "")
	if res.Details["removed"] != exitedSibling || res.Details["volumes_removed"] != "true" {
		t.Errorf("details %v, want only %s removed, with volumes", res.Details, exitedSibling)
	}
	for name, want := range map[string]bool{
		target: true, runningSibling: true, exitedSibling: false,
		otherService: true, otherProject: true, unlabelled: true,
	} {
		if got := d.exists(name); got != want {
			t.Errorf("%s exists=%v after cleanup, want %v", name, got, want)
		}
	}

	res = d.remediate(d.responder(nil), sdk.RemediateRequest{Container: target, Action: sdk.ActionCleanup})
	wantStatus(t, res, sdk.StatusNotApplicable, "no exited containers")
	res = d.remediate(d.responder(nil), sdk.RemediateRequest{Container: unlabelled, Action: sdk.ActionCleanup})
	wantStatus(t, res, sdk.StatusNotApplicable, "has no com.docker.compose.project")
}

func TestScaleOutsideSwarm(t *testing.T) {
	t.Parallel()
	d := newDockerTest(t)
	r := d.responder(nil)
	name := d.sickapp("app", container.Config{Labels: map[string]string{LabelSwarmServiceName: "web"}}, container.HostConfig{})
	res := d.remediate(r, sdk.RemediateRequest{Container: name, Action: sdk.ActionScale, Params: map[string]string{ParamReplicas: "3"}})
	wantStatus(t, res, sdk.StatusNotApplicable, "not in Swarm mode")
}
