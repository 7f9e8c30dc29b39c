package dockerresponder

import (
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/hemostat/hemostat/sdk"
)

func TestDependentsRestarted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		settings  map[string]any
		restarted bool
	}{
		{name: "by default", restarted: true},
		{name: "turned off", settings: map[string]any{"restart_dependents": false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := newDockerTest(t)
			r := d.responder(tt.settings)
			target := d.sickapp("target", container.Config{}, container.HostConfig{})
			id := d.inspect(target).ID
			byName := d.sharing("byname", target)
			byID := d.sharing("byid", id[:12])
			bystander := d.sickapp("bystander", container.Config{}, container.HostConfig{})
			before := map[string]container.InspectResponse{}
			for _, n := range []string{byName, byID, bystander} {
				before[n] = d.inspect(n)
			}

			res := d.remediate(r, sdk.RemediateRequest{Container: target, Action: sdk.ActionRestart, Params: map[string]string{ParamTrigger: TriggerLifecycle}})
			wantStatus(t, res, sdk.StatusSuccess, "")

			var want []string
			if tt.restarted {
				want = []string{byName, byID}
			}
			got := strings.Split(res.Details["dependents_restarted"], ",")
			if res.Details["dependents_restarted"] == "" {
				got = nil
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("dependents_restarted %q, want %q", got, want)
			}
			for n, was := range before {
				now := d.inspect(n)
				restarted := startedAt(t, now).After(startedAt(t, was))
				if wantRestarted := slices.Contains(want, n); restarted != wantRestarted {
					t.Errorf("%s restarted=%v, want %v", n, restarted, wantRestarted)
				}
				if !now.State.Running {
					t.Errorf("%s is %s, want running", n, describeState(now))
				}
			}
		})
	}
}

// TestDependentsScreened: the host's safety gate never sees dependents, so
// the responder leaves alone those that opted out, are protected by name or
// are its own container, restarts the rest and says which it skipped.
func TestDependentsScreened(t *testing.T) {
	t.Parallel()
	d := newDockerTest(t)
	r := d.responder(nil) // default protect_dependents: "hemostat*", "*redis*"
	target := d.sickapp("target", container.Config{}, container.HostConfig{})
	normal := d.sharing("normal", target)
	optOut := d.sharingLabelled("optout", target, map[string]string{LabelEnable: "false"})
	unclear := d.sharingLabelled("unclear", target, map[string]string{LabelEnable: "maybe"})
	optIn := d.sharingLabelled("optin", target, map[string]string{LabelEnable: "yes"})
	protected := d.sharing("redis", target)
	self := d.sharing("self", target)
	r.self = selfIdentity{cgroupID: d.inspect(self).ID}

	wantSkipped := map[string]string{
		optOut:    "opted out with label hemostat.enable=false",
		unclear:   `label hemostat.enable="maybe" is neither true nor false`,
		protected: `protected: matches protect_dependents "*redis*"`,
		self:      "it is the container this responder runs in",
	}
	wantRestarted := []string{normal, optIn}
	before := map[string]container.InspectResponse{}
	for _, n := range []string{normal, optOut, unclear, optIn, protected, self} {
		before[n] = d.inspect(n)
	}
	req := sdk.RemediateRequest{Container: target, Action: sdk.ActionRestart, Params: map[string]string{ParamTrigger: TriggerLifecycle}}

	dry := req
	dry.DryRun = true
	res := d.remediate(r, dry)
	wantStatus(t, res, sdk.StatusDryRun, "")
	slices.Sort(wantRestarted)
	if would := res.Details["would"]; !strings.HasSuffix(would, "; then restart "+strings.Join(wantRestarted, ", ")+", which share its network namespace") {
		t.Errorf("dry run would %q, want it to restart only %q", would, wantRestarted)
	}
	checkSkipped(t, res, wantSkipped)

	res = d.remediate(r, req)
	wantStatus(t, res, sdk.StatusSuccess, "")
	got := strings.Split(res.Details["dependents_restarted"], ",")
	slices.Sort(got)
	if !slices.Equal(got, wantRestarted) {
		t.Errorf("dependents_restarted %q, want %q", got, wantRestarted)
	}
	checkSkipped(t, res, wantSkipped)
	for n, was := range before {
		now := d.inspect(n)
		restarted := startedAt(t, now).After(startedAt(t, was))
		if want := slices.Contains(wantRestarted, n); restarted != want {
			t.Errorf("%s restarted=%v, want %v", n, restarted, want)
		}
	}
}

// checkSkipped wants Details["dependents_skipped"] to list exactly want,
// each dependent's name with its reason.
func checkSkipped(t *testing.T, res sdk.Result, want map[string]string) {
	t.Helper()
	var wantList []string
	for name, reason := range want {
		wantList = append(wantList, name+" ("+reason+")")
	}
	got := strings.Split(res.Details["dependents_skipped"], "; ")
	slices.Sort(got)
	slices.Sort(wantList)
	if !slices.Equal(got, wantList) {
		t.Errorf("dependents_skipped\n%q\nwant\n%q", got, wantList)
	}
}

// TestResolveRef covers the lookup order of a "container:" reference. The
// engine tested on rewrites the reference to the full ID when it creates
// the container, so a name that is also an ID prefix cannot be set up
// end to end; other engines and older containers keep it as written.
func TestResolveRef(t *testing.T) {
	t.Parallel()
	const (
		a = "abc1230000000000000000000000000000000000000000000000000000000000"
		b = "abc4560000000000000000000000000000000000000000000000000000000000"
		c = "def0000000000000000000000000000000000000000000000000000000000000"
	)
	list := []container.Summary{
		{ID: a, Names: []string{"/web"}},
		{ID: b, Names: []string{"/abc123", "/web/db"}}, // named like a's ID prefix
		{ID: c, Names: []string{"/" + a}},              // named like a's full ID
	}
	tests := []struct{ ref, want string }{
		{a, a},        // full ID before a name
		{"web", a},    // name
		{"/web", a},   // name with the engine's slash
		{"abc123", b}, // name before ID prefix
		{"abc4", b},   // unique ID prefix
		{"abc", ""},   // ambiguous ID prefix
		{"de", c},
		{"nothing", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := resolveRef(list, tt.ref); got != tt.want {
			t.Errorf("resolveRef(%q) = %q, want %q", tt.ref, shortID(got), shortID(tt.want))
		}
	}
}
