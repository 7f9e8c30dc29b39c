package dockerresponder

import (
	"fmt"

	"github.com/hemostat/hemostat/plugins/internal/selfcontainer"
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

// ownTarget explains why acting on the container id would act on
// hemostatd itself, or returns "".
func (s selfIdentity) ownTarget(id string) string {
	switch {
	case id == "":
		return ""
	case id == s.cgroupID:
		return "it is the container hemostatd and this responder run in"
	case id == s.mountID:
		// Either hemostatd runs in it, or in a container sharing its
		// network namespace, which acting on it would break as well.
		return "hemostatd runs in it or in its network namespace"
	}
	return ""
}

// detectSelf reads procRoot/self/cgroup and procRoot/self/mountinfo.
// Unreadable files leave the identity empty: outside a container there is
// nothing to protect.
func detectSelf(procRoot string) selfIdentity {
	ids := selfcontainer.Read(procRoot)
	return selfIdentity{cgroupID: ids.Cgroup, mountID: ids.Mount}
}
