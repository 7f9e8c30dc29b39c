package inspect

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/lease"
	"github.com/hemostat/hemostat/host/protocol"
)

// Fleet is every Docker host sharing this Redis, as three things written
// by the daemons tell it: their heartbeats (alive within HeartbeatTTL),
// the engine leases that elect one active daemon per host, and the stats
// keys of the containers each host's monitor watches.
type Fleet struct {
	Hosts []Host `json:"hosts"`
	// Unattributed counts containers whose name says no host: the stats
	// of single-host installs (fleet = false) or external monitors,
	// when more than one host shares the Redis. With one host they are
	// that host's.
	Unattributed int `json:"unattributed_containers"`
}

// Host is one Docker host of the fleet.
type Host struct {
	Name string `json:"host"`
	// Up: a daemon of the host has a live heartbeat and, when the host
	// elects its active daemon by lease, the lease's holder is one of
	// them. Down says why in Reason.
	Up     bool   `json:"up"`
	Reason string `json:"reason,omitempty"`
	// Active is the daemon whose monitor and responder act on the host's
	// engine: the lease's holder or, on a host that does not elect by
	// lease, its one daemon, active by definition. "" when nobody holds
	// the lease, or when several daemons run without one (each acts).
	Active   string `json:"active,omitempty"`
	LeaseGen int64  `json:"lease_gen,omitempty"`
	// Containers counts the host's containers with stats, that is seen by
	// its monitor within protocol.StatsTTL.
	Containers int          `json:"containers"`
	Daemons    []HostDaemon `json:"daemons"`
}

// HostDaemon is one hemostatd of a host.
type HostDaemon struct {
	ID      string    `json:"id"`
	PID     int       `json:"pid"`
	Version string    `json:"version"`
	Started time.Time `json:"started"`
	Updated time.Time `json:"updated"`
	// Role is "active" (holds the lease), "standby" (waits for it), or ""
	// when the host does not elect by lease.
	Role string `json:"role,omitempty"`
}

// leaseKeyPattern matches the engine leases of every host (see host/lease).
var leaseKeyPattern = lease.Key("*")

// fleetBeat is a heartbeat with the lease fields: active is true while the
// daemon acts on its engine (holding the lease, or running without one),
// false for a standby; lease_gen is the generation held, 0 without a
// lease. Heartbeats written before leases existed have neither (nil).
type fleetBeat struct {
	Heartbeat
	Active   *bool `json:"active"`
	LeaseGen int64 `json:"lease_gen"`
}

// ReadFleet reads the heartbeats, the leases and the stats keys and puts
// them together per host.
func ReadFleet(ctx context.Context, c redis.UniversalClient) (Fleet, error) {
	beats, err := readBeats(ctx, c)
	if err != nil {
		return Fleet{}, err
	}
	leases, err := readLeases(ctx, c)
	if err != nil {
		return Fleet{}, err
	}
	keys, err := scan(ctx, c, protocol.StatsKey("*"))
	if err != nil {
		return Fleet{}, err
	}
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = strings.TrimPrefix(k, protocol.StatsKey(""))
	}
	return buildFleet(beats, leases, names), nil
}

// heldLease is one host's lease as Redis holds it.
type heldLease struct {
	holder string
	gen    int64
}

// buildFleet joins what ReadFleet read; it is separate so that the rules
// (what counts as up, whose container is whose) read in one place.
func buildFleet(beats []fleetBeat, leases map[string]heldLease, containers []string) Fleet {
	hosts := map[string]*Host{}
	get := func(name string) *Host {
		h, ok := hosts[name]
		if !ok {
			h = &Host{Name: name, Daemons: []HostDaemon{}}
			hosts[name] = h
		}
		return h
	}
	alive := map[string]bool{}
	elects := map[string]bool{} // host → some daemon of it elects by lease
	for _, b := range beats {
		h := get(b.Host)
		alive[b.ID] = true
		d := HostDaemon{ID: b.ID, PID: b.PID, Version: b.Version, Started: b.Started, Updated: b.Updated}
		switch {
		case b.Active == nil: // a daemon from before leases
		case !*b.Active:
			elects[b.Host], d.Role = true, "standby"
		case b.LeaseGen > 0:
			elects[b.Host], d.Role = true, "active"
			// Active without a generation: no lease, it acts alone.
		}
		h.Daemons = append(h.Daemons, d)
	}
	for name, l := range leases {
		h := get(name)
		h.Active, h.LeaseGen = l.holder, l.gen
		for i := range h.Daemons {
			// Redis's word beats a heartbeat up to 10 s old.
			if h.Daemons[i].ID == l.holder {
				h.Daemons[i].Role = "active"
			} else {
				h.Daemons[i].Role = "standby"
			}
		}
	}
	var unattributed []string
	for _, c := range containers {
		host, _, ok := strings.Cut(c, "/")
		if !ok {
			unattributed = append(unattributed, c)
			continue
		}
		get(host).Containers++
	}
	f := Fleet{Hosts: make([]Host, 0, len(hosts))}
	if len(hosts) == 1 {
		for _, h := range hosts {
			h.Containers += len(unattributed)
		}
	} else {
		f.Unattributed = len(unattributed)
	}
	for name, h := range hosts {
		l, leased := leases[name]
		switch {
		case len(h.Daemons) == 0:
			h.Reason = fmt.Sprintf("no daemon's heartbeat in the last %s", HeartbeatTTL)
		case leased && !alive[l.holder]:
			h.Reason = "the lease's holder " + l.holder + " has no heartbeat"
		case !leased && elects[name]:
			h.Reason = "no daemon holds the lease"
		default:
			h.Up = true
		}
		if !leased && !elects[name] && len(h.Daemons) == 1 {
			// A lone daemon without a lease acts on its engine: it is
			// the host's active daemon, under no generation.
			h.Active = h.Daemons[0].ID
		}
		sort.Slice(h.Daemons, func(i, j int) bool { return h.Daemons[i].ID < h.Daemons[j].ID })
		f.Hosts = append(f.Hosts, *h)
	}
	sort.Slice(f.Hosts, func(i, j int) bool { return f.Hosts[i].Name < f.Hosts[j].Name })
	return f
}

// readBeats reads every live heartbeat with its lease fields, leaving out
// keys without an id.
func readBeats(ctx context.Context, c redis.UniversalClient) ([]fleetBeat, error) {
	beats, err := readHeartbeats[fleetBeat](ctx, c)
	out := beats[:0]
	for _, b := range beats {
		if b.ID != "" {
			out = append(out, b)
		}
	}
	return out, err
}

// readLeases reads every host's lease: its value is <holder>:<generation>,
// the holder being a heartbeat id (itself host:pid).
func readLeases(ctx context.Context, c redis.UniversalClient) (map[string]heldLease, error) {
	keys, err := scan(ctx, c, leaseKeyPattern)
	if err != nil {
		return nil, err
	}
	out := map[string]heldLease{}
	for _, k := range keys {
		// hemostat:lease:{<host>}; the pattern also matches the
		// generation counters, hemostat:lease:{<host>}:gen.
		host, ok := strings.CutSuffix(strings.TrimPrefix(k, protocol.Prefix+"lease:{"), "}")
		if !ok || lease.Key(host) != k {
			continue
		}
		v, err := c.Get(ctx, k).Result()
		if err == redis.Nil {
			continue // expired meanwhile: nobody holds it
		}
		if err != nil {
			return nil, fmt.Errorf("get %s: %w", k, err)
		}
		i := strings.LastIndexByte(v, ':')
		if i < 0 {
			continue
		}
		gen, err := strconv.ParseInt(v[i+1:], 10, 64)
		if err != nil {
			continue
		}
		out[host] = heldLease{holder: v[:i], gen: gen}
	}
	return out, nil
}
