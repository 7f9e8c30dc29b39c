package supervisor

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hemostat/hemostat/sdk"
)

// nobody is a uid that is neither root nor the test's.
const nobody = 65534

// TestCheckFile builds real files and directories with the modes and
// owners an attacker would leave, and checks each is refused with a reason
// that names the culprit.
func TestCheckFile(t *testing.T) {
	if os.Geteuid() == nobody {
		t.Fatal("the test needs a uid other than 65534")
	}
	type setup func(t *testing.T, dir string) string
	file := func(mode os.FileMode) setup {
		return func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "hemostat-analyzer-x")
			writeScript(t, p, mode)
			return p
		}
	}
	tests := []struct {
		name  string
		setup setup
		want  string // "" for accepted
	}{
		{"owner-only file", file(0o755), ""},
		{"world-writable file", file(0o777), "writable by group or others (mode 0777)"},
		{"group-writable file", file(0o775), "writable by group or others (mode 0775)"},
		{"file owned by another user", func(t *testing.T, dir string) string {
			p := file(0o755)(t, dir)
			chown(t, p, nobody)
			return p
		}, "owned by uid 65534"},
		{"world-writable directory", func(t *testing.T, dir string) string {
			sub := mkdir(t, dir, "open", 0o777)
			return file(0o755)(t, sub)
		}, "writable by group or others (mode 0777)"},
		{"directory owned by another user", func(t *testing.T, dir string) string {
			sub := mkdir(t, dir, "theirs", 0o755)
			p := file(0o755)(t, sub)
			chown(t, sub, nobody)
			return p
		}, "owned by uid 65534"},
		{"sticky world-writable directory", func(t *testing.T, dir string) string {
			sub := mkdir(t, dir, "tmp", 0o777|os.ModeSticky)
			return file(0o755)(t, sub)
		}, ""},
		{"symlink to a file in an open directory", func(t *testing.T, dir string) string {
			open := mkdir(t, dir, "open", 0o777)
			target := file(0o755)(t, open)
			link := filepath.Join(mkdir(t, dir, "plugins", 0o755), "hemostat-analyzer-x")
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			return link
		}, "writable by group or others (mode 0777)"},
		{"symlink in an open directory to a safe file", func(t *testing.T, dir string) string {
			target := file(0o755)(t, mkdir(t, dir, "safe", 0o755))
			link := filepath.Join(mkdir(t, dir, "open", 0o777), "hemostat-analyzer-x")
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			return link
		}, "writable by group or others (mode 0777)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.setup(t, t.TempDir())
			err := CheckFile(path)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("CheckFile(%s) = %v, want accepted", path, err)
			case tt.want != "" && (err == nil || !errors.Is(err, ErrUnsafeFile) || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("CheckFile(%s) = %v, want a refusal saying %q", path, err, tt.want)
			}
		})
	}
}

// TestUnsafePluginNeverRuns drops a world-writable plugin that would leave
// a mark if run: the supervisor refuses to start it, Discover lists it
// refused, and it never ran.
func TestUnsafePluginNeverRuns(t *testing.T) {
	dir := t.TempDir()
	mark := filepath.Join(dir, "ran")
	path := filepath.Join(dir, "hemostat-analyzer-evil")
	if err := os.WriteFile(path, []byte("#!/bin/sh\ntouch "+mark+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o777); err != nil {
		t.Fatal(err)
	}
	found, _, err := Discover(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || !strings.Contains(found[0].Refused, "writable by group or others") {
		t.Fatalf("Discover = %+v, want the plugin listed as refused", found)
	}
	s := newSupervisor(t, testOptions(t, sdk.NewMemoryHost()))
	ctx, cancel := context.WithTimeout(testContext(t), 10*time.Second)
	defer cancel()
	_, err = s.Start(ctx, Spec{Role: sdk.RoleAnalyzer, Name: "evil", Path: path})
	if !errors.Is(err, ErrUnsafeFile) || !strings.Contains(err.Error(), "plugin analyzer.evil") {
		t.Fatalf("Start = %v, want ErrUnsafeFile naming the plugin", err)
	}
	if _, err := Probe(ctx, testOptions(t, nil), Spec{Role: sdk.RoleAnalyzer, Name: "evil", Path: path}); !errors.Is(err, ErrUnsafeFile) {
		t.Fatalf("Probe = %v, want ErrUnsafeFile", err)
	}
	if _, err := os.Stat(mark); err == nil {
		t.Fatal("the refused plugin ran")
	}
}

func writeScript(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte("#!/bin/sh\nexit 0\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // not filtered by the umask
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, parent, name string, mode os.FileMode) string {
	t.Helper()
	dir := filepath.Join(parent, name)
	if err := os.Mkdir(dir, 0o700); err != nil && !os.IsExist(err) {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, mode); err != nil {
		t.Fatal(err)
	}
	return dir
}

func chown(t *testing.T, path string, uid int) {
	t.Helper()
	if err := os.Lchown(path, uid, -1); err != nil {
		t.Fatalf("chown %s to %d (the test needs root): %v", path, uid, err)
	}
}
