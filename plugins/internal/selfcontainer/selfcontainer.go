// Package selfcontainer finds the Docker container the current process
// runs in, from /proc, so that the built-in plugins never report or touch
// hemostatd's own container.
package selfcontainer

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

var (
	// idInPath finds a 64-hex container ID as a path element of a cgroup
	// ("/docker/<id>", "/docker-<id>.scope", "/kubepods/.../<id>").
	idInPath = regexp.MustCompile(`(?:^|[/-])([0-9a-f]{64})(?:\.scope)?(?:/|$)`)
	// idInMount finds the ID in the engine's bind mounts of /etc/hostname
	// and friends: ".../containers/<id>/hostname".
	idInMount = regexp.MustCompile(`/containers/([0-9a-f]{64})/`)
)

// IDs are what /proc says about the process's container.
type IDs struct {
	// Cgroup is the container ID in procRoot/self/cgroup: always the
	// process's own container. Empty outside a container, and under
	// cgroup v2 with a private cgroup namespace, where the path is "/".
	Cgroup string
	// Mount is the container ID in the mounts of /etc/hostname, /etc/hosts
	// and /etc/resolv.conf. The engine gives a container that joined
	// another's network namespace that other's files, so this is the own
	// container or the one whose network namespace it shares.
	Mount string
}

// Read reads procRoot/self/cgroup and procRoot/self/mountinfo; unreadable
// files leave their ID empty.
func Read(procRoot string) IDs {
	var ids IDs
	if data, err := os.ReadFile(filepath.Join(procRoot, "self", "cgroup")); err == nil {
		ids.Cgroup = FromCgroup(string(data))
	}
	if data, err := os.ReadFile(filepath.Join(procRoot, "self", "mountinfo")); err == nil {
		ids.Mount = FromMountinfo(string(data))
	}
	return ids
}

// FromCgroup finds the container ID in a /proc/<pid>/cgroup file.
func FromCgroup(data string) string {
	for line := range strings.Lines(data) {
		// hierarchy-ID:controllers:path
		parts := strings.SplitN(strings.TrimSpace(line), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if m := idInPath.FindStringSubmatch(parts[2]); m != nil {
			return m[1]
		}
	}
	return ""
}

// FromMountinfo finds the container ID in a /proc/<pid>/mountinfo file,
// from the mount of /etc/hostname, /etc/hosts or /etc/resolv.conf.
func FromMountinfo(data string) string {
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
		if m := idInMount.FindStringSubmatch(fields[3]); m != nil {
			return m[1]
		}
	}
	return ""
}
