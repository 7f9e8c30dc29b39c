package dockerresponder

import (
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/hemostat/hemostat/sdk"
)

func TestExec(t *testing.T) {
	t.Parallel()
	d := newDockerTest(t)
	allow := [][]string{
		{"/sickapp", "--log", "cache flushed", "--log", "all good", "--exit", "0"},
		{"/sickapp", "health", "--health-file", "/nonexistent"},
	}
	r := d.responder(map[string]any{"exec_allowlist": allow})
	short := d.responder(map[string]any{"exec_allowlist": allow, "exec_output_limit": 8})
	name := d.sickapp("app", container.Config{}, container.HostConfig{})

	tests := []struct {
		name      string
		r         *Responder
		command   string
		status    string
		errorHas  string
		exitCode  string
		output    string
		truncated bool
	}{
		{name: "by index", r: r, command: "0", status: sdk.StatusSuccess, exitCode: "0", output: "cache flushed\nall good\n"},
		{name: "as written", r: r, command: strings.Join(allow[0], " "), status: sdk.StatusSuccess, exitCode: "0", output: "cache flushed\nall good\n"},
		{name: "non-zero exit", r: r, command: "1", status: sdk.StatusFailed, errorHas: "exited with code 1", exitCode: "1"},
		{name: "output truncated", r: short, command: "0", status: sdk.StatusSuccess, exitCode: "0", output: "cache fl", truncated: true},
		{name: "not allowlisted", r: r, command: "/sickapp --cpu 1", status: sdk.StatusRejected, errorHas: "not in exec_allowlist"},
		{name: "index out of range", r: r, command: "2", status: sdk.StatusRejected, errorHas: "not in exec_allowlist"},
		{name: "no command", r: r, command: "", status: sdk.StatusRejected, errorHas: "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := *d
			d.t = t
			res := d.remediate(tt.r, sdk.RemediateRequest{Container: name, Action: sdk.ActionExec, Params: map[string]string{ParamCommand: tt.command}})
			wantStatus(t, res, tt.status, tt.errorHas)
			if res.Details["exit_code"] != tt.exitCode {
				t.Errorf("exit_code %q, want %q", res.Details["exit_code"], tt.exitCode)
			}
			if tt.output != "" && res.Details["output"] != tt.output {
				t.Errorf("output %q, want %q", res.Details["output"], tt.output)
			}
			if got := res.Details["output_truncated"] == "true"; got != tt.truncated {
				t.Errorf("output_truncated %v, want %v", got, tt.truncated)
			}
		})
	}

	if err := d.cli.ContainerStop(d.ctx, name, container.StopOptions{}); err != nil {
		t.Fatal(err)
	}
	res := d.remediate(r, sdk.RemediateRequest{Container: name, Action: sdk.ActionExec, Params: map[string]string{ParamCommand: "0"}})
	wantStatus(t, res, sdk.StatusNotApplicable, "exec needs a running container")
}
