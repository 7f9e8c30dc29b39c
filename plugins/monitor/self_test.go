package monitor

import (
	"os"
	"path/filepath"
	"testing"
)

const selfTestID = "4f1b2d5c8e9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c"

func TestDetectSelf(t *testing.T) {
	tests := []struct {
		name      string
		cgroup    string
		mountinfo string
		hostname  string
		wantID    string
		wantHost  string
	}{
		{"cgroup v1 cgroupfs", "cgroup_v1_docker", "mountinfo_host", "web", selfTestID, ""},
		{"cgroup v2 systemd scope", "cgroup_v2_systemd", "mountinfo_host", "", selfTestID, ""},
		{"cgroup namespace: mountinfo", "cgroup_v2_private", "mountinfo_container", "4f1b2d5c8e9a", selfTestID, "4f1b2d5c8e9a"},
		{"host", "cgroup_host", "mountinfo_host", "vm", "", ""},
		{"hostname only", "cgroup_host", "mountinfo_host", "0123456789ab", "", "0123456789ab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proc := t.TempDir()
			if err := os.Mkdir(filepath.Join(proc, "self"), 0o755); err != nil {
				t.Fatal(err)
			}
			for src, dst := range map[string]string{tt.cgroup: "cgroup", tt.mountinfo: "mountinfo"} {
				data, err := os.ReadFile(filepath.Join("testdata", "self", src))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(proc, "self", dst), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got := detectSelf(proc, tt.hostname)
			if got.id != tt.wantID || got.hostname != tt.wantHost {
				t.Fatalf("detectSelf = %+v, want id %q hostname %q", got, tt.wantID, tt.wantHost)
			}
		})
	}
}

func TestSelfIdentityIs(t *testing.T) {
	s := selfIdentity{id: selfTestID}
	h := selfIdentity{hostname: "0123456789ab"}
	tests := []struct {
		s    selfIdentity
		id   string
		want bool
	}{
		{s, selfTestID, true},
		{s, "0123456789ab" + selfTestID[12:], false},
		{s, "", false},
		{h, "0123456789abcdef", true},
		{h, "ba9876543210", false},
		{selfIdentity{}, selfTestID, false},
	}
	for _, tt := range tests {
		if got := tt.s.is(tt.id); got != tt.want {
			t.Errorf("%+v.is(%q) = %v, want %v", tt.s, tt.id, got, tt.want)
		}
	}
}

func TestScopeFilter(t *testing.T) {
	self := selfIdentity{id: selfTestID}
	all := scopeFilter{exclude: []string{"db-*", "cache"}, self: self}
	optIn := scopeFilter{optIn: true, self: self}
	tests := []struct {
		name   string
		f      scopeFilter
		id     string
		cname  string
		labels map[string]string
		want   bool
	}{
		{"all: plain", all, "a", "web", nil, true},
		{"all: opted out", all, "a", "web", map[string]string{"hemostat.enable": "false"}, false},
		{"all: excluded glob", all, "a", "db-primary", nil, false},
		{"all: excluded exact", all, "a", "cache", nil, false},
		{"all: glob does not overmatch", all, "a", "cache-2", nil, true},
		{"all: self", all, selfTestID, "hemostatd", map[string]string{"hemostat.enable": "true"}, false},
		{"opt_in: plain", optIn, "a", "web", nil, false},
		{"opt_in: opted in", optIn, "a", "web", map[string]string{"hemostat.enable": "true"}, true},
		{"opt_in: opted out", optIn, "a", "web", map[string]string{"hemostat.enable": "false"}, false},
		{"opt_in: other value", optIn, "a", "web", map[string]string{"hemostat.enable": "maybe"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f.reported(tt.id, tt.cname, tt.labels); got != tt.want {
				t.Fatalf("reported = %v, want %v", got, tt.want)
			}
		})
	}
}
