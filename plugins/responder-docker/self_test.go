package dockerresponder

import (
	"os"
	"path/filepath"
	"testing"
)

const (
	ownID   = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	otherID = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
)

func TestDetectSelf(t *testing.T) {
	t.Parallel()
	hostnameMount := func(id string) string {
		return "600 590 8:1 /var/lib/docker/containers/" + id + "/hostname /etc/hostname rw,relatime - ext4 /dev/sda1 rw\n"
	}
	const rootMount = "590 500 0:50 / / rw,relatime master:1 - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w\n"
	tests := []struct {
		name              string
		cgroup, mountinfo string
		want              selfIdentity
	}{
		{name: "not in a container", cgroup: "0::/user.slice/user-1000.slice/session-2.scope\n", mountinfo: rootMount},
		{name: "cgroup v1", cgroup: "12:memory:/docker/" + ownID + "\n0::/\n", mountinfo: rootMount + hostnameMount(ownID),
			want: selfIdentity{cgroupID: ownID, mountID: ownID}},
		{name: "systemd cgroup driver", cgroup: "0::/system.slice/docker-" + ownID + ".scope\n",
			want: selfIdentity{cgroupID: ownID}},
		{name: "cgroup v2, private namespace", cgroup: "0::/\n", mountinfo: rootMount + hostnameMount(ownID),
			want: selfIdentity{mountID: ownID}},
		{name: "in another's network namespace", cgroup: "0::/\n", mountinfo: hostnameMount(otherID),
			want: selfIdentity{mountID: otherID}},
		{name: "unreadable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			if err := os.MkdirAll(filepath.Join(root, "self"), 0o755); err != nil {
				t.Fatal(err)
			}
			for file, data := range map[string]string{"cgroup": tt.cgroup, "mountinfo": tt.mountinfo} {
				if data == "" {
					continue
				}
				if err := os.WriteFile(filepath.Join(root, "self", file), []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if got := detectSelf(root); got != tt.want {
				t.Errorf("detectSelf = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestOwnReason(t *testing.T) {
	t.Parallel()
	const targetID = "aaaa000000000000000000000000000000000000000000000000000000000000"
	tests := []struct {
		name string
		self selfIdentity
		dep  string
		own  bool
	}{
		{"outside a container", selfIdentity{}, ownID, false},
		{"own ID from the cgroup", selfIdentity{cgroupID: ownID}, ownID, true},
		{"other dependent", selfIdentity{cgroupID: ownID, mountID: targetID}, otherID, false},
		{"own ID from the mounts", selfIdentity{mountID: ownID}, ownID, true},
		// The mounts name the target: this process shares its network
		// namespace, so any of its dependents may be this process.
		{"sharing the target's namespace", selfIdentity{mountID: targetID}, otherID, true},
		{"elsewhere", selfIdentity{mountID: ownID}, otherID, false},
	}
	for _, tt := range tests {
		if got := tt.self.ownReason(tt.dep, targetID); (got != "") != tt.own {
			t.Errorf("%s: ownReason = %q, want own=%v", tt.name, got, tt.own)
		}
	}
}
