package protocol

import (
	"fmt"
	"path"
	"strings"
	"time"
)

// A fleet is several hemostatd, one per Docker host, sharing one Redis.
// Two hosts may each run a container called web-1, so in a fleet a
// container is named on the wire and in every key by its host as well:
// "<host>/<name>". Docker forbids '/' inside a container name, and a host
// name may not contain one either, so the first '/' (after the optional
// leading slash the Engine API writes) splits the two without ambiguity.
// A single host keeps the protocol's bare names.

// Qualify names container name on host: "<host>/<name>". A leading slash,
// as the Engine API spells names, is dropped.
func Qualify(host, name string) string {
	return host + "/" + strings.TrimPrefix(name, "/")
}

// SplitQualified reads a container name written by Qualify. ok is false
// for a bare name, which names no host.
func SplitQualified(container string) (host, name string, ok bool) {
	host, name, ok = strings.Cut(strings.TrimPrefix(container, "/"), "/")
	if !ok || host == "" || name == "" {
		return "", strings.TrimPrefix(container, "/"), false
	}
	return host, name, true
}

// CheckHostName says what is wrong with a host name, or returns nil: it
// ends up in container names and Redis keys, so it must be a single
// key-safe word.
func CheckHostName(host string) error {
	if host == "" {
		return fmt.Errorf("a host name is required")
	}
	if len(host) > 253 {
		return fmt.Errorf("host name is longer than 253 characters")
	}
	if i := strings.IndexFunc(host, func(r rune) bool {
		return r <= ' ' || r == 0x7f || strings.ContainsRune("/:*?[]{}\\\"'", r)
	}); i >= 0 {
		return fmt.Errorf("host name %q must not contain %q", host, host[i])
	}
	return nil
}

// ClaimKey records that one daemon of a fleet took up an envelope no host
// owns (from a monitor or analyzer outside hemostatd), so that it is
// judged or told once fleet-wide: hemostat:claim:<role>:<request id>.
// An extension of the protocol.
func ClaimKey(role, id string) string { return Prefix + "claim:" + role + ":" + id }

// WatchedKey holds the last moment a monitor role watched a host's engine
// (Unix milliseconds, WatchedTTL), written while it watches and when it
// stops. The monitor role that takes over — a standby taking the lease, a
// hemostatd started again — counts an exit after it as a crash nobody saw.
// An extension of the protocol.
func WatchedKey(host string) string { return Prefix + "watched:" + host }

// WatchedTTL bounds how long a watch mark is believed: after a day
// without a monitor, an exit found on return is old news, not a crash to
// heal.
const WatchedTTL = 24 * time.Hour

// MatchContainer reports whether glob (path.Match) matches container, or,
// for a container of a fleet, its name alone: a "*" does not cross the
// '/' of "<host>/<name>", and "web-*" is meant to match web-1 on every
// host. A leading slash (Docker's spelling) is ignored on both sides.
func MatchContainer(glob, container string) bool {
	glob, container = strings.TrimPrefix(glob, "/"), strings.TrimPrefix(container, "/")
	if ok, _ := path.Match(glob, container); ok {
		return true
	}
	if _, name, ok := SplitQualified(container); ok {
		ok, _ := path.Match(glob, name)
		return ok
	}
	return false
}
