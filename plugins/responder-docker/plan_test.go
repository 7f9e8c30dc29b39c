package dockerresponder

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/hemostat/hemostat/sdk"
)

func TestPlanResources(t *testing.T) {
	const mib = 1 << 20
	host := hostLimits{memory: 1024 * mib, cpus: 4}
	cfg := DefaultConfig()
	capped := cfg
	capped.MaxMemory, capped.MaxCPUs = 200*mib, 1

	tests := []struct {
		name    string
		cur     container.Resources
		cfg     Config
		which   string
		want    container.Resources
		changed int
		note    string
	}{
		{
			name:    "memory raised by the factor, swap allowance kept",
			cur:     container.Resources{Memory: 100 * mib, MemorySwap: 200 * mib},
			cfg:     cfg,
			want:    container.Resources{Memory: 150 * mib, MemorySwap: 250 * mib},
			changed: 1, note: "no CPU limit set",
		},
		{
			name:    "unlimited swap stays unlimited",
			cur:     container.Resources{Memory: 100 * mib, MemorySwap: -1},
			cfg:     cfg,
			which:   "memory",
			want:    container.Resources{Memory: 150 * mib},
			changed: 1,
		},
		{
			name:    "memory capped by max_memory",
			cur:     container.Resources{Memory: 150 * mib},
			cfg:     capped,
			which:   "memory",
			want:    container.Resources{Memory: 200 * mib},
			changed: 1,
		},
		{
			name:  "memory already at max_memory",
			cur:   container.Resources{Memory: 200 * mib},
			cfg:   capped,
			which: "memory",
			note:  "memory limit 200MiB is already at the cap 200MiB",
		},
		{
			name:    "memory capped by the host without max_memory",
			cur:     container.Resources{Memory: 900 * mib},
			cfg:     cfg,
			which:   "memory",
			want:    container.Resources{Memory: 1024 * mib},
			changed: 1,
		},
		{
			name:  "no limits at all",
			cur:   container.Resources{},
			cfg:   cfg,
			note:  "no memory limit set; no CPU limit set",
			which: "",
		},
		{
			name:    "nano CPUs raised",
			cur:     container.Resources{NanoCPUs: 1e9},
			cfg:     cfg,
			which:   "cpu",
			want:    container.Resources{NanoCPUs: 15e8},
			changed: 1,
		},
		{
			name:  "nano CPUs at max_cpus",
			cur:   container.Resources{NanoCPUs: 1e9},
			cfg:   capped,
			which: "cpu",
			note:  "CPU limit 1 is already at the cap 1",
		},
		{
			name:    "CFS quota raised up to the host's CPUs",
			cur:     container.Resources{CPUQuota: 300_000, CPUPeriod: 100_000},
			cfg:     cfg,
			which:   "cpu",
			want:    container.Resources{CPUQuota: 400_000},
			changed: 1,
		},
		{
			name:    "CFS quota without a period uses the kernel's",
			cur:     container.Resources{CPUQuota: 50_000},
			cfg:     cfg,
			which:   "cpu",
			want:    container.Resources{CPUQuota: 75_000},
			changed: 1,
		},
		{
			name:    "cpu only leaves memory alone",
			cur:     container.Resources{Memory: 100 * mib, NanoCPUs: 1e9},
			cfg:     cfg,
			which:   "cpu",
			want:    container.Resources{NanoCPUs: 15e8},
			changed: 1,
		},
		{
			name:    "both raised",
			cur:     container.Resources{Memory: 100 * mib, NanoCPUs: 1e9},
			cfg:     cfg,
			want:    container.Resources{Memory: 150 * mib, NanoCPUs: 15e8},
			changed: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := planResources(tt.cur, tt.cfg, host, tt.which)
			if !reflect.DeepEqual(p.update, tt.want) {
				t.Errorf("update %+v, want %+v", p.update, tt.want)
			}
			if len(p.changes) != tt.changed {
				t.Errorf("changes %q, want %d", p.changes, tt.changed)
			}
			if note := strings.Join(p.notes, "; "); note != tt.note {
				t.Errorf("notes %q, want %q", note, tt.note)
			}
		})
	}
}

func TestTriggerOf(t *testing.T) {
	running := &container.State{Running: true, Status: container.StateRunning}
	unhealthy := &container.State{Running: true, Status: container.StateRunning, Health: &container.Health{Status: container.Unhealthy}}
	exited := &container.State{Status: container.StateExited, ExitCode: 1}
	tests := []struct {
		param string
		state *container.State
		want  string
		ok    bool
	}{
		{"", running, TriggerResource, true},
		{"", unhealthy, TriggerLifecycle, true},
		{"", exited, TriggerLifecycle, true},
		{"lifecycle", running, TriggerLifecycle, true},
		{"resource", exited, TriggerResource, true},
		{"cpu", running, "", false},
	}
	for _, tt := range tests {
		got, err := triggerOf(map[string]string{ParamTrigger: tt.param}, tt.state)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("triggerOf(%q, %+v) = %q, %v; want %q ok=%v", tt.param, tt.state, got, err, tt.want, tt.ok)
		}
	}
}

func TestJudgeRunning(t *testing.T) {
	health := func(s container.HealthStatus) *container.Health { return &container.Health{Status: s} }
	tests := []struct {
		name   string
		state  container.State
		done   bool
		status string
		err    string
	}{
		{"running without healthcheck", container.State{Running: true, Status: container.StateRunning}, true, sdk.StatusSuccess, ""},
		{"healthy", container.State{Running: true, Health: health(container.Healthy)}, true, sdk.StatusSuccess, ""},
		{"health starting", container.State{Running: true, Health: health(container.Starting)}, false, "", ""},
		{"unhealthy", container.State{Running: true, Health: health(container.Unhealthy)}, true, sdk.StatusFailed, "web unhealthy 2s after restart"},
		{"exited", container.State{Status: container.StateExited, ExitCode: 1}, true, sdk.StatusFailed, "web exited with code 1 2s after restart"},
		{"oom", container.State{Status: container.StateExited, ExitCode: 137, OOMKilled: true}, true, sdk.StatusFailed, "web was OOM killed 2s after restart"},
		{"restarting by policy", container.State{Restarting: true, ExitCode: 3}, true, sdk.StatusFailed, "web exited with code 3 2s after restart; its restart policy is restarting it"},
		{"created, not yet running", container.State{Status: container.StateCreated}, false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := container.InspectResponse{ContainerJSONBase: &container.ContainerJSONBase{State: &tt.state}}
			done, res := judgeRunning(c, "web", "restart", 2*time.Second)
			if done != tt.done || res.Status != tt.status || res.Error != tt.err {
				t.Errorf("judgeRunning = %v, %+v; want %v, %q, %q", done, res, tt.done, tt.status, tt.err)
			}
		})
	}
}

func TestDescribeState(t *testing.T) {
	tests := []struct {
		state container.State
		want  string
	}{
		{container.State{Running: true, Status: container.StateRunning}, "running"},
		{container.State{Running: true, Status: container.StateRunning, Health: &container.Health{Status: container.Healthy}}, "running (healthy)"},
		{container.State{Running: true, Paused: true, Status: container.StatePaused}, "paused"},
		{container.State{Status: container.StateExited, ExitCode: 1}, "exited (1)"},
		{container.State{Status: container.StateExited, ExitCode: 137, OOMKilled: true}, "exited (137, OOM killed)"},
		{container.State{Restarting: true, Status: container.StateRestarting, ExitCode: 2}, "restarting (last exit 2)"},
		{container.State{Status: container.StateCreated}, "created"},
	}
	for _, tt := range tests {
		c := container.InspectResponse{ContainerJSONBase: &container.ContainerJSONBase{State: &tt.state}}
		if got := describeState(c); got != tt.want {
			t.Errorf("describeState(%+v) = %q, want %q", tt.state, got, tt.want)
		}
	}
}

func TestAllowedCommand(t *testing.T) {
	allow := [][]string{{"nginx", "-s", "reload"}, {"/app", "flush-cache"}}
	tests := []struct {
		param string
		want  []string
	}{
		{"0", allow[0]},
		{"1", allow[1]},
		{"nginx -s reload", allow[0]},
		{"/app flush-cache", allow[1]},
		{"2", nil},
		{"-1", nil},
		{"nginx  -s reload", nil},
		{"nginx -s reload; rm -rf /", nil},
		{"", nil},
	}
	for _, tt := range tests {
		got, err := allowedCommand(allow, tt.param)
		if !reflect.DeepEqual(got, tt.want) || (err == nil) != (tt.want != nil) {
			t.Errorf("allowedCommand(%q) = %q, %v; want %q", tt.param, got, err, tt.want)
		}
	}
}

func TestLimitedBuffer(t *testing.T) {
	b := &limitedBuffer{limit: 5}
	for _, s := range []string{"ab", "cd", "ef", "gh"} {
		if n, err := b.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if b.String() != "abcde" || !b.truncated {
		t.Errorf("buffer %q truncated=%v, want \"abcde\" true", b.String(), b.truncated)
	}
	cut := &limitedBuffer{limit: 2}
	cut.Write([]byte("é!")) // two bytes of é fit, then the cut
	cut.Write([]byte{0xff})
	if got := cut.String(); got != "é" {
		t.Errorf("cut buffer %q, want \"é\"", got)
	}
	half := &limitedBuffer{limit: 1}
	half.Write([]byte("é"))
	if got := half.String(); got != "\uFFFD" {
		t.Errorf("half a character %q, want U+FFFD", got)
	}
}

func TestStopTimeout(t *testing.T) {
	cfg := DefaultConfig()
	tests := []struct {
		labels map[string]string
		want   int
		ok     bool
	}{
		{nil, 10, true},
		{map[string]string{LabelStopTimeout: "3"}, 3, true},
		{map[string]string{LabelStopTimeout: " 0 "}, 0, true},
		{map[string]string{LabelStopTimeout: "3s"}, 0, false},
		{map[string]string{LabelStopTimeout: "-1"}, 0, false},
	}
	for _, tt := range tests {
		c := container.InspectResponse{
			ContainerJSONBase: &container.ContainerJSONBase{Name: "/web"},
			Config:            &container.Config{Labels: tt.labels},
		}
		got, err := stopTimeout(c, cfg)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("stopTimeout(%v) = %d, %v; want %d ok=%v", tt.labels, got, err, tt.want, tt.ok)
		}
	}
}

// TestStoppedOnPurposeWithoutEvents covers the evidence used when the
// engine's event log has nothing: the parameter and the restart policy.
func TestStoppedOnPurposeWithoutEvents(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]string
		policy container.RestartPolicy
		state  container.State
		count  int
		want   bool
		ok     bool
	}{
		{name: "monitor saw a stop", params: map[string]string{ParamStopRequested: "true"}, want: true, ok: true},
		{name: "monitor saw a crash", params: map[string]string{ParamStopRequested: "false"}, policy: container.RestartPolicy{Name: "always"}, ok: true},
		{name: "bad parameter", params: map[string]string{ParamStopRequested: "maybe"}},
		{name: "no policy", ok: true},
		{name: "always gave up", policy: container.RestartPolicy{Name: "always"}, want: true, ok: true},
		{name: "unless-stopped gave up", policy: container.RestartPolicy{Name: "unless-stopped"}, want: true, ok: true},
		{name: "OOM kill under always", policy: container.RestartPolicy{Name: "always"}, state: container.State{OOMKilled: true}, ok: true},
		{name: "on-failure after exit 0", policy: container.RestartPolicy{Name: "on-failure"}, ok: true},
		{name: "on-failure gave up early", policy: container.RestartPolicy{Name: "on-failure", MaximumRetryCount: 5}, state: container.State{ExitCode: 1}, count: 2, want: true, ok: true},
		{name: "on-failure at its retry limit", policy: container.RestartPolicy{Name: "on-failure", MaximumRetryCount: 5}, state: container.State{ExitCode: 1}, count: 5, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := tt.state
			st.Status = container.StateExited
			c := &call{
				req: sdk.RemediateRequest{Params: tt.params},
				target: container.InspectResponse{ContainerJSONBase: &container.ContainerJSONBase{
					State: &st, RestartCount: tt.count, HostConfig: &container.HostConfig{RestartPolicy: tt.policy},
				}},
			}
			how, err := stoppedOnPurpose(t.Context(), c, time.Now())
			if (err == nil) != tt.ok || (how != "") != tt.want {
				t.Errorf("stoppedOnPurpose = %q, %v; want stopped=%v ok=%v", how, err, tt.want, tt.ok)
			}
		})
	}
}
