package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hemostat/hemostat/host/httpapi"
	"github.com/hemostat/hemostat/host/inspect"
	"github.com/hemostat/hemostat/internal/testenv"
)

// fleetViewDaemon is a fleet member with a short lease, so that a standby
// takes over quickly; its roles have nothing to do here.
const fleetViewDaemon = `
host  = "{{host}}"
fleet = true
redis { address = "{{redis}}" }
http  { address = "{{http}}" }
lease { ttl = "1s" }
monitor   { enabled = false }
responder { enabled = false }
alert     { enabled = false }
analyzer {
  plugin "threshold" {}
}
`

// TestFleetView: two hemostatd on host h1 (one active, one standby by the
// engine lease) and one on h2 share a Redis; the hosts API and `hemostatd
// status` show both hosts up, h1's active daemon and its standby; the
// active one is SIGKILLed and the view shows the standby active under a
// newer lease generation.
func TestFleetView(t *testing.T) {
	srv := testenv.StartRedis(t)
	start := func(host string) *daemon {
		return startDaemon(t, srv, strings.ReplaceAll(fleetViewDaemon, "{{host}}", host))
	}
	a, b, c := start("h1"), start("h1"), start("h2")
	ids := map[string]*daemon{}
	for _, d := range []*daemon{a, b, c} {
		ids[fmt.Sprintf("%s:%d", hostname(t), d.PID())] = d
	}

	hosts := func(d *daemon) httpapi.HostList {
		resp, err := http.Get("http://" + d.HTTPAddr() + "/api/v1/hosts")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var list httpapi.HostList
		if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
			t.Fatal(err)
		}
		return list
	}
	find := func(list httpapi.HostList, name string) inspect.Host {
		for _, h := range list.Hosts {
			if h.Name == name {
				return h
			}
		}
		return inspect.Host{}
	}
	roles := func(h inspect.Host) string {
		var rs []string
		for _, d := range h.Daemons {
			rs = append(rs, d.Role)
		}
		return strings.Join(rs, ",")
	}
	waitView := func(from *daemon, what string, ok func(h1, h2 inspect.Host) bool) (inspect.Host, inspect.Host) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			list := hosts(from)
			h1, h2 := find(list, "h1"), find(list, "h2")
			if ok(h1, h2) {
				return h1, h2
			}
			if time.Now().After(deadline) {
				t.Fatalf("the hosts view never showed %s: %+v", what, list)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	h1, _ := waitView(c, "h1 with an active daemon and a standby, h2 up", func(h1, h2 inspect.Host) bool {
		return h1.Up && h1.Active != "" && h1.LeaseGen > 0 && len(h1.Daemons) == 2 &&
			(roles(h1) == "active,standby" || roles(h1) == "standby,active") &&
			h2.Up && len(h2.Daemons) == 1 && h2.Active != ""
	})
	active, ok := ids[h1.Active]
	if !ok || active == c {
		t.Fatalf("h1's active daemon is %q, not one of h1's (%v)", h1.Active, ids)
	}
	gen := h1.LeaseGen

	out, err := exec.Command(hemostatdBin(t), "status", "-redis", srv.Addr()).CombinedOutput()
	if err != nil {
		t.Fatalf("status: %v\n%s", err, out)
	}
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		lines = append(lines, strings.Join(strings.Fields(l), " "))
	}
	status := strings.Join(lines, "\n")
	for _, want := range []string{
		"2 host(s)",
		"h1 up " + h1.Active + " " + strconv.FormatInt(gen, 10) + " 0 2 (1 standby)",
		"h2 up ",
	} {
		if !strings.Contains(status, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}

	// The active daemon dies without a word: its standby takes the lease.
	// Its plugin dies with it (parent-death signal).
	active.StopWith(syscall.SIGKILL) // exits "killed": nothing to check

	standby := a
	if active == a {
		standby = b
	}
	standbyID := fmt.Sprintf("%s:%d", hostname(t), standby.PID())
	h1, _ = waitView(standby, "h1's standby active under a newer generation", func(h1, h2 inspect.Host) bool {
		return h1.Up && h1.Active == standbyID && h1.LeaseGen > gen && h2.Up
	})
	t.Logf("h1: lease generation %d → %d, active %s → %s", gen, h1.LeaseGen, fmt.Sprint(active.PID()), standbyID)
}

func hostname(t *testing.T) string {
	t.Helper()
	id := inspect.DaemonID()
	return id[:strings.LastIndexByte(id, ':')]
}

func hemostatdBin(t *testing.T) string {
	t.Helper()
	bin, _ := build(t)
	return bin
}
