package role

import (
	"context"
	"fmt"

	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/host/bus"
	"github.com/hemostat/hemostat/host/protocol"
)

// Fleet scopes a role to its own Docker host when several hemostatd, one
// per host, share one Redis. The zero value is a single host: every name
// is the protocol's bare one and every envelope is this daemon's to
// handle, as before fleets existed.
//
// Each daemon judges and tells its own host's news rather than letting a
// consumer group spread them over the fleet: the alert's samples, history
// and container are local, nothing couples one host's daemon to another's
// health, and the work grows with the hosts that make it.
type Fleet struct {
	// Host is this daemon's host name.
	Host string
	// Enabled qualifies container names as "<host>/<name>" and scopes the
	// roles to this host.
	Enabled bool
}

// Qualify names a container of this host as the bus knows it: itself in a
// single host, "<host>/<name>" in a fleet.
func (f Fleet) Qualify(name string) string {
	if !f.Enabled {
		return name
	}
	if _, _, ok := protocol.SplitQualified(name); ok {
		return name
	}
	return protocol.Qualify(f.Host, name)
}

// local returns the name this host's engine knows a container by, when the
// container is this host's; otherwise why it is not. In a single host every
// container is.
func (f Fleet) local(container string) (name string, why string) {
	if !f.Enabled {
		return container, ""
	}
	host, name, ok := protocol.SplitQualified(container)
	switch {
	case !ok:
		return "", fmt.Sprintf("in a fleet a container is named <host>/<name>; %q names no host", container)
	case host != f.Host:
		return "", fmt.Sprintf("container %q is on host %q; this daemon acts on host %q's only", container, host, f.Host)
	}
	return name, ""
}

// ownership of an envelope in a fleet.
type ownership int

const (
	ours      ownership = iota // this host's: handle it
	theirs                     // another host's: its daemon handles it
	unclaimed                  // no host's (an outside agent's): whoever claims it first
)

// owner says whose an envelope about container is: the host its name is
// qualified with, else the host its data names, else nobody's.
func (f Fleet) owner(env protocol.Envelope, container string) ownership {
	if !f.Enabled {
		return ours
	}
	host, _, ok := protocol.SplitQualified(container)
	if !ok {
		host = hostOf(env)
	}
	switch host {
	case "":
		return unclaimed
	case f.Host:
		return ours
	}
	return theirs
}

// mine reports whether this daemon handles env for role: its own host's,
// or one no host owns that it claimed first fleet-wide. When Redis cannot
// say who claimed it, it is handled: told twice is better than never.
func (f Fleet) mine(ctx context.Context, b *bus.Bus, log hclog.Logger, role string, env protocol.Envelope, container string) bool {
	switch f.owner(env, container) {
	case ours:
		return true
	case theirs:
		return false
	}
	ok, err := b.Claim(ctx, role, protocol.RequestID(env))
	if err != nil {
		log.Warn("cannot claim an envelope no host owns; handling it", "type", env.Type, "container", container, "error", err)
		return true
	}
	return ok
}
