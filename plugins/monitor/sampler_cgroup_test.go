package monitor

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestCgroupCandidates(t *testing.T) {
	const id = "abc"
	tests := []struct {
		driver, parent string
		want           []string
	}{
		{"cgroupfs", "", []string{"docker/abc"}},
		{"cgroupfs", "/custom/parent/", []string{"custom/parent/abc"}},
		{"systemd", "", []string{"system.slice/docker-abc.scope"}},
		{"systemd", "my-app.slice", []string{"my.slice/my-app.slice/docker-abc.scope"}},
		{"", "", []string{"docker/abc", "system.slice/docker-abc.scope"}},
	}
	for _, tt := range tests {
		if got := cgroupCandidates(tt.driver, tt.parent, id); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("cgroupCandidates(%q, %q) = %v, want %v", tt.driver, tt.parent, got, tt.want)
		}
	}
}

func TestExpandSlice(t *testing.T) {
	for in, want := range map[string]string{
		"system.slice":    "system.slice",
		"a-b-c.slice":     "a.slice/a-b.slice/a-b-c.slice",
		"-.slice":         "",
		"/already/a/path": "already/a/path",
	} {
		if got := expandSlice(in); got != want {
			t.Errorf("expandSlice(%q) = %q, want %q", in, got, want)
		}
	}
}

// writeTree creates files under root from a map of relative path to
// content.
func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for rel, content := range files {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCgroupSamplerLayouts reads fake v1 and v2 hierarchies laid out as the
// engine lays them out, so that the v2 path is covered on a v1 machine.
func TestCgroupSamplerLayouts(t *testing.T) {
	const id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	proc := map[string]string{
		"stat":    "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 50 0 50 400 0 0 0 0 0 0\ncpu1 50 0 50 400 0 0 0 0 0 0\n",
		"meminfo": "MemTotal: 1048576 kB\n",
	}
	tests := []struct {
		name   string
		driver string
		files  map[string]string
		want   reading
	}{
		{
			name:   "v1 cgroupfs with limit",
			driver: "cgroupfs",
			files: map[string]string{
				"cpuacct/docker/" + id + "/cpuacct.usage":          "2500000000\n",
				"memory/docker/" + id + "/memory.usage_in_bytes":   "104857600\n",
				"memory/docker/" + id + "/memory.limit_in_bytes":   "209715200\n",
				"memory/docker/" + id + "/memory.stat":             "cache 20971520\ninactive_file 1\ntotal_inactive_file 10485760\n",
				"cpuacct/docker/someone-else/cpuacct.usage":        "1\n",
				"memory/docker/" + id + "/cgroup.procs":            "1\n",
				"cpuacct/system.slice/docker-" + id + ".scope/cpu": "decoy\n",
			},
			want: reading{cpuTotal: 2.5e9, systemTotal: 1e10, onlineCPUs: 2, memUsage: 100 << 20, memInactiveFile: 10 << 20, memLimit: 200 << 20},
		},
		{
			name:   "v2 systemd without limit",
			driver: "systemd",
			files: map[string]string{
				"cgroup.controllers":                                  "cpu memory\n",
				"system.slice/docker-" + id + ".scope/cpu.stat":       "usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\n",
				"system.slice/docker-" + id + ".scope/memory.current": "52428800\n",
				"system.slice/docker-" + id + ".scope/memory.max":     "max\n",
				"system.slice/docker-" + id + ".scope/memory.stat":    "anon 1\nfile 2\ninactive_file 2097152\n",
			},
			want: reading{cpuTotal: 1.5e9, systemTotal: 1e10, onlineCPUs: 2, memUsage: 50 << 20, memInactiveFile: 2 << 20, memLimit: 1 << 30, limitIsHost: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, procRoot := t.TempDir(), t.TempDir()
			writeTree(t, root, tt.files)
			writeTree(t, procRoot, proc)
			c := newCgroupSampler(root, procRoot, tt.driver)
			got, err := c.read(t.Context(), target{ID: id})
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("read = %+v, want %+v", got, tt.want)
			}
			if _, err := c.read(t.Context(), target{ID: "missing"}); !errors.Is(err, errNoCgroup) {
				t.Fatalf("read of an unknown container = %v, want errNoCgroup", err)
			}
			// The container goes away: its files vanish under the sampler.
			if err := os.RemoveAll(root); err != nil {
				t.Fatal(err)
			}
			if _, err := c.read(t.Context(), target{ID: id}); !errors.Is(err, errCgroupGone) || errors.Is(err, errNoCgroup) {
				t.Fatalf("read after removal = %v, want errCgroupGone", err)
			}
			if _, err := c.read(t.Context(), target{ID: id}); !errors.Is(err, errNoCgroup) {
				t.Fatalf("read of a forgotten container = %v, want errNoCgroup", err)
			}
		})
	}
}
