package inspect

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/testenv"
)

// beat writes a daemon's heartbeat as hemostatd does; lease is "" for a
// daemon that does not elect by lease, "active" or "standby" for one
// that does, "old" for a daemon from before leases.
func beat(t *testing.T, c *redis.Client, host string, pid int, lease string) {
	t.Helper()
	id := fmt.Sprintf("%s:%d", host, pid)
	// As host/daemon writes them: a daemon without a lease is active
	// with no generation; a standby is inactive with none.
	extra := `,"active":true`
	switch lease {
	case "active":
		extra = `,"active":true,"lease_gen":7`
	case "standby":
		extra = `,"active":false`
	case "old":
		extra = ""
	}
	raw := fmt.Sprintf(`{"id":%q,"host":%q,"pid":%d,"version":"v1","started":"2026-12-02T10:00:00Z","updated":"2026-12-02T10:00:10Z","plugins":[]%s}`, id, host, pid, extra)
	if err := c.Set(context.Background(), HeartbeatKey(id), raw, HeartbeatTTL).Err(); err != nil {
		t.Fatal(err)
	}
}

// describe is one host in a line, for comparing.
func describe(h Host) string {
	s := h.Name + " up"
	if !h.Up {
		s = h.Name + " down(" + h.Reason + ")"
	}
	if h.Active != "" {
		s += fmt.Sprintf(" active=%s gen=%d", h.Active, h.LeaseGen)
	}
	s += fmt.Sprintf(" containers=%d daemons=", h.Containers)
	var ds []string
	for _, d := range h.Daemons {
		ds = append(ds, d.ID+"/"+d.Role)
	}
	return s + strings.Join(ds, ",")
}

func TestReadFleet(t *testing.T) {
	srv := testenv.StartRedis(t)
	c := srv.Client(t)
	ctx := context.Background()
	stats := func(names ...string) {
		for _, n := range names {
			c.Set(ctx, protocol.StatsKey(n), `{"name":"x","status":"running"}`, protocol.StatsTTL)
		}
	}
	lease := func(host, value string) {
		c.Set(ctx, "hemostat:lease:{"+host+"}", value, 5*time.Second)
		c.Incr(ctx, "hemostat:lease:{"+host+"}:gen")
	}
	noBeat := "no daemon's heartbeat in the last " + HeartbeatTTL.String()
	for _, tc := range []struct {
		name         string
		setup        func()
		want         []string
		unattributed int
	}{
		{"a single-host install: one daemon, unqualified names",
			func() { beat(t, c, "box", 10, ""); stats("web", "db") },
			[]string{"box up active=box:10 gen=0 containers=2 daemons=box:10/"}, 0},
		{"no daemon at all: the stats alone name no host", func() { stats("web") }, nil, 1},
		{"a fleet: same-named containers per host, an active and a standby, a host gone",
			func() {
				beat(t, c, "a", 1, "active")
				beat(t, c, "a", 2, "standby")
				lease("a", "a:1:3")
				beat(t, c, "b", 5, "")
				stats("a/web", "a/db", "b/web", "c/web")
			},
			[]string{
				"a up active=a:1 gen=3 containers=2 daemons=a:1/active,a:2/standby",
				"b up active=b:5 gen=0 containers=1 daemons=b:5/",
				"c down(" + noBeat + ") containers=1 daemons=",
			}, 0},
		{"the lease's holder died; its standby has not taken over yet",
			func() { beat(t, c, "a", 2, "standby"); lease("a", "a:1:4"); stats("a/web") },
			[]string{"a down(the lease's holder a:1 has no heartbeat) active=a:1 gen=4 containers=1 daemons=a:2/standby"}, 0},
		{"the lease expired and no daemon took it",
			func() { beat(t, c, "a", 2, "standby"); stats("a/web") },
			[]string{"a down(no daemon holds the lease) containers=1 daemons=a:2/standby"}, 0},
		{"Redis's lease beats a heartbeat that still says active",
			func() { beat(t, c, "a", 1, "active"); beat(t, c, "a", 2, "standby"); lease("a", "a:2:9") },
			[]string{"a up active=a:2 gen=9 containers=0 daemons=a:1/standby,a:2/active"}, 0},
		{"two daemons without a lease on one host: both act, neither is the active one",
			func() { beat(t, c, "a", 1, ""); beat(t, c, "a", 2, "") },
			[]string{"a up containers=0 daemons=a:1/,a:2/"}, 0},
		{"two hosts and unqualified names: nobody's in particular",
			func() { beat(t, c, "a", 1, ""); beat(t, c, "b", 1, ""); stats("web", "a/web") },
			[]string{"a up active=a:1 gen=0 containers=1 daemons=a:1/", "b up active=b:1 gen=0 containers=0 daemons=b:1/"}, 1},
		{"a daemon from before leases, beside one without a lease",
			func() { beat(t, c, "a", 1, "old"); beat(t, c, "b", 1, "") },
			[]string{"a up active=a:1 gen=0 containers=0 daemons=a:1/", "b up active=b:1 gen=0 containers=0 daemons=b:1/"}, 0},
		{"another writer's key under the heartbeat prefix is skipped",
			func() { c.Set(ctx, HeartbeatKey("junk"), "not json", time.Minute); beat(t, c, "a", 1, "") },
			[]string{"a up active=a:1 gen=0 containers=0 daemons=a:1/"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := c.FlushAll(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			tc.setup()
			f, err := ReadFleet(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, h := range f.Hosts {
				got = append(got, describe(h))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("hosts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if f.Unattributed != tc.unattributed {
				t.Errorf("unattributed %d, want %d", f.Unattributed, tc.unattributed)
			}
		})
	}
}

func TestStatusPrintsTheFleet(t *testing.T) {
	srv := testenv.StartRedis(t)
	c := srv.Client(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		setup func()
		want  []string // lines of the hosts table, spaces squeezed
	}{
		{"an active daemon and its standby, a host gone",
			func() {
				beat(t, c, "a", 1, "active")
				beat(t, c, "a", 2, "standby")
				c.Set(ctx, "hemostat:lease:{a}", "a:1:3", 5*time.Second)
				c.Set(ctx, protocol.StatsKey("b/web"), `{"name":"b/web","status":"running"}`, protocol.StatsTTL)
			},
			[]string{
				"2 host(s)",
				"HOST STATE ACTIVE DAEMON LEASE GEN CONTAINERS DAEMONS",
				"a up a:1 3 0 2 (1 standby)",
				"b DOWN: no daemon's heartbeat in the last 30s - - 1 0",
			}},
		{"a lone daemon without a lease is its host's active daemon, under no generation",
			func() {
				beat(t, c, "box", 10, "")
				c.Set(ctx, protocol.StatsKey("web"), `{"name":"web","status":"running"}`, protocol.StatsTTL)
			},
			[]string{
				"1 host(s)",
				"HOST STATE ACTIVE DAEMON LEASE GEN CONTAINERS DAEMONS",
				"box up box:10 - 1 1",
			}},
		{"two daemons without a lease on one host: both act, no one daemon is named",
			func() { beat(t, c, "box", 10, ""); beat(t, c, "box", 11, "") },
			[]string{"box up - - 0 2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := c.FlushAll(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			tc.setup()
			st, err := ReadStatus(ctx, c, Target{Addresses: []string{srv.Addr()}, Source: "-redis"})
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			st.Write(&out, time.Now())
			var lines []string
			for _, l := range strings.Split(out.String(), "\n") {
				lines = append(lines, strings.Join(strings.Fields(l), " "))
			}
			all := strings.Join(lines, "\n")
			for _, want := range tc.want {
				if !strings.Contains(all, want) {
					t.Errorf("status lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}
