package daemontest

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// hemostatdPackage is the daemon's main package. Its built-in plugins are
// re-executions of the same binary, so it is all a daemon needs besides any
// plugins dropped into its plugin directory.
const hemostatdPackage = "github.com/hemostat/hemostat/cmd/hemostatd"

// builds holds every directory built in this test binary, under one
// temporary root that Cleanup removes.
var builds struct {
	mu   sync.Mutex
	root string
	sets map[string]*buildSet
}

// buildSet is one directory of binaries, built once however many tests
// ask for it.
type buildSet struct {
	once sync.Once
	dir  string
	err  error
}

// Hemostatd builds cmd/hemostatd once per test binary and returns the path
// of the executable.
func Hemostatd(t testing.TB) string {
	t.Helper()
	return filepath.Join(Binaries(t, map[string]string{"hemostatd": hemostatdPackage}), "hemostatd")
}

// Binaries builds each package of files (file name → Go package path) into
// one directory, once per test binary for a given set, and returns the
// directory: a plugin directory holding plugins exactly as a user would
// drop them in. The directory is shared by every test asking for the same
// set; a test that adds a file to it removes the file itself.
func Binaries(t testing.TB, files map[string]string) string {
	t.Helper()
	set, err := buildSetFor(files)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	set.once.Do(func() {
		for _, name := range slices.Sorted(maps.Keys(files)) {
			if set.err = goBuild(filepath.Join(set.dir, name), files[name]); set.err != nil {
				return
			}
		}
	})
	if set.err != nil {
		t.Fatalf("build: %v", set.err)
	}
	return set.dir
}

// buildSetFor returns the build set of files, creating the temporary root
// and the set's directory on first use.
func buildSetFor(files map[string]string) (*buildSet, error) {
	var key strings.Builder
	for _, name := range slices.Sorted(maps.Keys(files)) {
		fmt.Fprintf(&key, "%s=%s\n", name, files[name])
	}
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if set, ok := builds.sets[key.String()]; ok {
		return set, nil
	}
	if builds.root == "" {
		root, err := os.MkdirTemp("", "hemostat-daemontest-")
		if err != nil {
			return nil, err
		}
		builds.root = root
		builds.sets = make(map[string]*buildSet)
	}
	dir := filepath.Join(builds.root, fmt.Sprintf("bin%d", len(builds.sets)))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	set := &buildSet{dir: dir}
	builds.sets[key.String()] = set
	return set, nil
}

// Cleanup removes everything Hemostatd and Binaries built. TestMain calls
// it once the tests have run.
func Cleanup() {
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if builds.root != "" {
		os.RemoveAll(builds.root)
	}
	builds.root, builds.sets = "", nil
}

// goBuild builds pkg into out as a static binary, so that it runs wherever
// the test puts it.
func goBuild(out, pkg string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}
