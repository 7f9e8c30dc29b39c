package selfcontainer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const id = "3f1e2d4c5b6a79881716151413121110f0e0d0c0b0a090807060504030201000"

func TestFromCgroup(t *testing.T) {
	for _, tc := range []struct{ name, data, want string }{
		{"cgroup v1 cgroupfs", "12:memory:/docker/" + id + "\n1:name=systemd:/docker/" + id + "\n", id},
		{"cgroup v2 systemd", "0::/system.slice/docker-" + id + ".scope\n", id},
		{"kubernetes", "4:cpu:/kubepods/burstable/pod1234/" + id + "\n", id},
		{"private cgroup namespace", "0::/\n", ""},
		{"not a container", "0::/user.slice/user-0.slice/session-1.scope\n", ""},
		{"garbage", "no colons here\n", ""},
	} {
		if got := FromCgroup(tc.data); got != tc.want {
			t.Errorf("%s: FromCgroup = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestFromMountinfo(t *testing.T) {
	line := func(root, mount string) string {
		return "1234 1200 254:1 " + root + " " + mount + " rw,relatime - ext4 /dev/vda rw\n"
	}
	for _, tc := range []struct{ name, data, want string }{
		{"hostname mount", line("/var/lib/docker/containers/"+id+"/hostname", "/etc/hostname"), id},
		{"resolv.conf mount", line("/var/lib/docker/containers/"+id+"/resolv.conf", "/etc/resolv.conf"), id},
		{"other mounts only", line("/var/lib/docker/volumes/data/_data", "/data"), ""},
		{"short line", "1 2 3\n", ""},
	} {
		if got := FromMountinfo(tc.data); got != tc.want {
			t.Errorf("%s: FromMountinfo = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestRead(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "self"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "self", "cgroup"), []byte("0::/\n"), 0o644)
	os.WriteFile(filepath.Join(root, "self", "mountinfo"), []byte(strings.Join([]string{
		"1234 1200 254:1 /var/lib/docker/containers/" + id + "/hostname /etc/hostname rw - ext4 /dev/vda rw",
	}, "\n")), 0o644)
	if got := Read(root); got.Cgroup != "" || got.Mount != id {
		t.Errorf("Read = %+v, want only the mount ID", got)
	}
	if got := Read(filepath.Join(root, "missing")); got != (IDs{}) {
		t.Errorf("Read of a missing /proc = %+v, want nothing", got)
	}
}
