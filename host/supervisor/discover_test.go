package supervisor

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hemostat/hemostat/sdk"
)

func TestDiscover(t *testing.T) {
	dir := t.TempDir()
	analyzer := pluginBinary(t, "analyzer")
	sum, err := FileSHA256(analyzer)
	if err != nil {
		t.Fatal(err)
	}
	copyBinary(t, analyzer, dir, "hemostat-analyzer-foo")
	copyBinary(t, analyzer, dir, "hemostat-analyzer-foo-bar")
	copyBinary(t, analyzer, dir, "hemostat-janitor-x")
	copyBinary(t, analyzer, dir, "hemostat-analyzer-")
	copyBinary(t, analyzer, dir, "hemostat-analyzer")
	copyBinary(t, analyzer, dir, "hemostat-alert-v1.2")
	if err := os.WriteFile(filepath.Join(dir, "hemostat-monitor-noexec"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "README"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "hemostat-alert-dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(analyzer, filepath.Join(dir, "hemostat-analyzer-linked")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "gone"), filepath.Join(dir, "hemostat-analyzer-dangling")); err != nil {
		t.Fatal(err)
	}

	found, skipped, err := Discover(dir)
	if err != nil {
		t.Fatal(err)
	}
	at := func(name string) string { return filepath.Join(dir, name) }
	wantFound := []Found{
		{Role: sdk.RoleAnalyzer, Name: "foo", Path: at("hemostat-analyzer-foo"), SHA256: sum},
		{Role: sdk.RoleAnalyzer, Name: "foo-bar", Path: at("hemostat-analyzer-foo-bar"), SHA256: sum},
		{Role: sdk.RoleAnalyzer, Name: "linked", Path: at("hemostat-analyzer-linked"), SHA256: sum},
	}
	if !reflect.DeepEqual(found, wantFound) {
		t.Errorf("found:\n got %+v\nwant %+v", found, wantFound)
	}
	wantSkipped := map[string]string{
		"README":                     "name does not start with hemostat-",
		"hemostat-alert-dir":         "not a regular file",
		"hemostat-alert-v1.2":        "plugin name holds a space, a control character or a dot",
		"hemostat-analyzer":          "name is not hemostat-<role>-<name>",
		"hemostat-analyzer-":         "plugin name is empty",
		"hemostat-analyzer-dangling": "no such file or directory",
		"hemostat-janitor-x":         `role "janitor" is not one of [monitor analyzer responder alert]`,
		"hemostat-monitor-noexec":    "not executable",
	}
	if len(skipped) != len(wantSkipped) {
		t.Errorf("skipped %d entries, want %d: %+v", len(skipped), len(wantSkipped), skipped)
	}
	for _, s := range skipped {
		want, ok := wantSkipped[filepath.Base(s.Path)]
		if !ok || !strings.Contains(s.Reason, want) {
			t.Errorf("skipped %s because %q, want %q", s.Path, s.Reason, want)
		}
	}

	// What Discover finds, Start runs, pinned to the digest it reported.
	s := newSupervisor(t, testOptions(t, sdk.NewMemoryHost()))
	f := found[0]
	if _, err := s.Start(testContext(t), Spec{Role: f.Role, Name: f.Name, Path: f.Path, SHA256: f.SHA256}); err != nil {
		t.Fatalf("Start of a discovered plugin: %v", err)
	}
}

func TestDiscoverMissingDir(t *testing.T) {
	found, skipped, err := Discover(filepath.Join(t.TempDir(), "absent"))
	if err != nil || found != nil || skipped != nil {
		t.Fatalf("Discover of a missing dir: %v, %v, %v", found, skipped, err)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Discover(file); err == nil || !strings.Contains(err.Error(), "plugin directory") {
		t.Fatalf("Discover of a file: got %v, want a plugin directory error", err)
	}
}

func TestProbe(t *testing.T) {
	tests := []struct {
		name    string
		spec    Spec
		want    sdk.Info
		wantErr string
	}{
		{
			name: "executable",
			spec: Spec{Role: sdk.RoleResponder, Name: "r", Path: pluginBinary(t, "responder")},
			want: sdk.Info{Role: sdk.RoleResponder, Name: "scripted-responder", Version: "0.0.0-test", ProtocolVersion: sdk.ProtocolVersion},
		},
		{
			name: "built-in",
			spec: Spec{Role: sdk.RoleAlert, Name: "slack"},
			want: sdk.Info{Role: sdk.RoleAlert, Name: "slack", Version: "0.0.0-test", ProtocolVersion: sdk.ProtocolVersion},
		},
		{
			name:    "other role",
			spec:    Spec{Role: sdk.RoleAnalyzer, Name: "m", Path: pluginBinary(t, "monitor")},
			wantErr: "it is a monitor plugin (scripted-monitor 0.0.0-test)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := Probe(testContext(t), testOptions(t, nil), tt.spec)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Probe: got %v, want an error saying %q", err, tt.wantErr)
				}
			} else if err != nil || info != tt.want {
				t.Fatalf("Probe: got %+v, %v; want %+v", info, err, tt.want)
			}
			if kids := childPIDs(t); len(kids) != 0 {
				t.Fatalf("Probe left processes %v", kids)
			}
		})
	}
}

func TestProbeHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Probe(ctx, testOptions(t, nil), Spec{Role: sdk.RoleAnalyzer, Name: "a", Path: pluginBinary(t, "analyzer")})
	if err == nil {
		t.Fatal("Probe with a cancelled context succeeded")
	}
	if kids := childPIDs(t); len(kids) != 0 {
		t.Fatalf("Probe left processes %v", kids)
	}
}
