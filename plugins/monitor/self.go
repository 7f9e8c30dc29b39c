package monitor

import (
	"regexp"
	"strings"

	"github.com/hemostat/hemostat/plugins/internal/selfcontainer"
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

var shortIDPattern = regexp.MustCompile(`^[0-9a-f]{12}$`)

// detectSelf reads procRoot/self/cgroup, then procRoot/self/mountinfo (the
// only place that knows under cgroup v2 with a private cgroup namespace),
// and $HOSTNAME.
func detectSelf(procRoot, hostname string) selfIdentity {
	ids := selfcontainer.Read(procRoot)
	s := selfIdentity{id: ids.Cgroup}
	if s.id == "" {
		s.id = ids.Mount
	}
	if shortIDPattern.MatchString(hostname) {
		s.hostname = hostname
	}
	return s
}
