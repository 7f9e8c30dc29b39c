package dockerresponder

import (
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/hemostat/hemostat/sdk"
)

func TestRefersTo(t *testing.T) {
	t.Parallel()
	const id = "cafe0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab"
	c := container.InspectResponse{ContainerJSONBase: &container.ContainerJSONBase{ID: id, Name: "/web"}}
	tests := []struct {
		ref  string
		want bool
	}{
		{"web", true},
		{"/web", true},
		{id, true},
		{id[:12], true},
		{id[:20], true},
		{"", false},
		{"cafe", false},           // a vanished container named "cafe"
		{id[:11], false},          // shorter than a short ID
		{"CAFE0123456789", false}, // the engine's IDs are lower case
		{"webapp", false},
		{"we", false},
		{"cafe0123456789abXY", false},
	}
	for _, tt := range tests {
		if got := refersTo(c, tt.ref); got != tt.want {
			t.Errorf("refersTo(%q) = %v, want %v", tt.ref, got, tt.want)
		}
	}
}

// TestVanishedNameNotTakenForIDPrefix asks for a container by a name no
// container has but which is a prefix of another's ID: the engine resolves
// it to that other container, which the responder must leave alone.
func TestVanishedNameNotTakenForIDPrefix(t *testing.T) {
	t.Parallel()
	d := newDockerTest(t)
	r := d.responder(nil)
	victim := d.sickapp("victim", container.Config{}, container.HostConfig{})
	v := d.inspect(victim)
	prefix := d.uniqueIDPrefix(v.ID)

	for _, dry := range []bool{false, true} {
		res := d.remediate(r, sdk.RemediateRequest{Container: prefix, Action: sdk.ActionRestart, DryRun: dry,
			Params: map[string]string{ParamTrigger: TriggerLifecycle}})
		wantStatus(t, res, sdk.StatusFailed, "container "+prefix+" no longer exists")
	}
	if now := d.inspect(victim); !startedAt(t, now).Equal(startedAt(t, v)) || !now.State.Running {
		t.Errorf("%s was touched: started %s, now %s and %s", victim, v.State.StartedAt, now.State.StartedAt, describeState(now))
	}

	// The name, the full ID and a short ID still name it: unpause of a
	// running container is not_applicable only once it is found.
	for _, ref := range []string{victim, "/" + victim, v.ID, v.ID[:12]} {
		res := d.remediate(r, sdk.RemediateRequest{Container: ref, Action: sdk.ActionUnpause})
		wantStatus(t, res, sdk.StatusNotApplicable, victim+" is not paused")
	}
}

// uniqueIDPrefix returns the shortest prefix of id, at least 4 characters
// so that containers created meanwhile by parallel tests are unlikely to
// share it, that no other container's ID starts with and no container is
// named: the engine resolves it to id's container alone.
func (d *dockerTest) uniqueIDPrefix(id string) string {
	d.t.Helper()
	list, err := d.cli.ContainerList(d.ctx, container.ListOptions{All: true})
	if err != nil {
		d.t.Fatalf("list containers: %v", err)
	}
	for n := 4; n < minIDPrefix; n++ {
		p := id[:n]
		clash := false
		for _, s := range list {
			if s.ID != id && strings.HasPrefix(s.ID, p) || slices.Contains(s.Names, "/"+p) {
				clash = true
				break
			}
		}
		if !clash {
			return p
		}
	}
	d.t.Fatalf("no prefix of %s shorter than %d characters is unique", id, minIDPrefix)
	return ""
}
