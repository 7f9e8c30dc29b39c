package monitor

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// selfIdentity recognises the container hemostatd itself runs in, which
// the plugin never reports: a monitor that alerts on itself only adds
// noise, and the responder must never act on it.
type selfIdentity struct {
	// id is the full container ID found in /proc/self; empty outside a
	// container or when it cannot be told.
	id string
	// hostname is $HOSTNAME when it looks like the short container ID the
	// engine uses as a default hostname.
	hostname string
}

// is reports whether id is hemostatd's own container.
func (s selfIdentity) is(id string) bool {
	if id == "" {
		return false
	}
	if s.id != "" && id == s.id {
		return true
	}
	return s.hostname != "" && strings.HasPrefix(id, s.hostname)
}

var (
	// containerIDInPath finds a 64-hex container ID as a path element of a
	// cgroup ("/docker/<id>", "/docker-<id>.scope", "/kubepods/.../<id>").
	containerIDInPath = regexp.MustCompile(`(?:^|[/-])([0-9a-f]{64})(?:\.scope)?(?:/|$)`)
	// containerIDInMount finds the ID in the engine's bind mounts of
	// /etc/hostname and friends: ".../containers/<id>/hostname".
	containerIDInMount = regexp.MustCompile(`/containers/([0-9a-f]{64})/`)
	shortIDPattern     = regexp.MustCompile(`^[0-9a-f]{12}$`)
)

// detectSelf reads procRoot/self/cgroup, then procRoot/self/mountinfo (the
// only place that knows under cgroup v2 with a private cgroup namespace),
// and $HOSTNAME.
func detectSelf(procRoot, hostname string) selfIdentity {
	var s selfIdentity
	if data, err := os.ReadFile(filepath.Join(procRoot, "self", "cgroup")); err == nil {
		s.id = idFromCgroup(string(data))
	}
	if s.id == "" {
		if data, err := os.ReadFile(filepath.Join(procRoot, "self", "mountinfo")); err == nil {
			s.id = idFromMountinfo(string(data))
		}
	}
	if shortIDPattern.MatchString(hostname) {
		s.hostname = hostname
	}
	return s
}

// idFromCgroup finds the container ID in a /proc/<pid>/cgroup file.
func idFromCgroup(data string) string {
	for line := range strings.Lines(data) {
		// hierarchy-ID:controllers:path
		parts := strings.SplitN(strings.TrimSpace(line), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if m := containerIDInPath.FindStringSubmatch(parts[2]); m != nil {
			return m[1]
		}
	}
	return ""
}

// idFromMountinfo finds the container ID in a /proc/<pid>/mountinfo file,
// from the mount of /etc/hostname, /etc/hosts or /etc/resolv.conf.
func idFromMountinfo(data string) string {
	for line := range strings.Lines(data) {
		fields := strings.Fields(line)
		if len(fields) < 5 {
			continue
		}
		switch fields[4] {
		case "/etc/hostname", "/etc/hosts", "/etc/resolv.conf":
		default:
			continue
		}
		if m := containerIDInMount.FindStringSubmatch(fields[3]); m != nil {
			return m[1]
		}
	}
	return ""
}
