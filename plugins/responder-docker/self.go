package dockerresponder

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// selfIdentity recognises the container this process runs in. hemostatd
// runs the plugin as its subprocess, so that is hemostatd's container, and
// restarting it as a dependent would cut the action short and take the
// daemon down with it.
type selfIdentity struct {
	// cgroupID is the container ID in /proc/self/cgroup: always this
	// process's own container. Empty outside a container, and under
	// cgroup v2 with a private cgroup namespace, where the path is "/".
	cgroupID string
	// mountID is the container ID in the mounts of /etc/hostname,
	// /etc/hosts and /etc/resolv.conf. The engine gives a container that
	// joined another's network namespace that other's files, so this is
	// the own container or the one whose network namespace it shares.
	mountID string
}

// ownReason explains why the dependent dep of target may be this process's
// own container, or returns "". $HOSTNAME is no evidence: a container in
// another's network namespace carries that other's hostname.
func (s selfIdentity) ownReason(dep, target string) string {
	switch {
	case dep == "":
		return ""
	case dep == s.cgroupID || dep == s.mountID:
		return "it is the container this responder runs in"
	case s.cgroupID == "" && s.mountID != "" && s.mountID == target:
		// Either this process runs in target, or in one of the containers
		// sharing its network namespace, and which one cannot be told.
		return fmt.Sprintf("this responder shares the network namespace of %s and may run in it", shortID(target))
	}
	return ""
}

var (
	// containerIDInPath finds a 64-hex container ID as a path element of a
	// cgroup ("/docker/<id>", "/docker-<id>.scope", "/kubepods/.../<id>").
	containerIDInPath = regexp.MustCompile(`(?:^|[/-])([0-9a-f]{64})(?:\.scope)?(?:/|$)`)
	// containerIDInMount finds the ID in the engine's bind mounts of
	// /etc/hostname and friends: ".../containers/<id>/hostname".
	containerIDInMount = regexp.MustCompile(`/containers/([0-9a-f]{64})/`)
)

// detectSelf reads procRoot/self/cgroup and procRoot/self/mountinfo.
// Unreadable files leave the identity empty: outside a container there is
// nothing to protect.
func detectSelf(procRoot string) selfIdentity {
	var s selfIdentity
	if data, err := os.ReadFile(filepath.Join(procRoot, "self", "cgroup")); err == nil {
		s.cgroupID = idFromCgroup(string(data))
	}
	if data, err := os.ReadFile(filepath.Join(procRoot, "self", "mountinfo")); err == nil {
		s.mountID = idFromMountinfo(string(data))
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
		// mount-ID parent-ID major:minor root mount-point ...
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
