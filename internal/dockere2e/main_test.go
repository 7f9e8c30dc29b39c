package dockere2e

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// defaultParallel is how many scenarios run at once unless -parallel says
// otherwise. Scenarios spend most of their time waiting for timers inside
// hemostatd and the containers, not on the CPU, so more than GOMAXPROCS of
// them keep a small machine busy without starving it.
const defaultParallel = "4"

// hemostatd is built once per test binary into buildDir.
var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) {
		if f.Name == "test.parallel" {
			explicit = true
		}
	})
	if !explicit {
		flag.Set("test.parallel", defaultParallel)
	}
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// hemostatdBinary builds cmd/hemostatd once and returns its path. The
// built-in plugins are re-executions of the same binary, so it is all a
// scenario needs.
func hemostatdBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "hemostat-dockere2e-")
		if buildErr != nil {
			return
		}
		out := filepath.Join(buildDir, "hemostatd")
		cmd := exec.Command("go", "build", "-o", out, "github.com/hemostat/hemostat/cmd/hemostatd")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build hemostatd: %v\n%s", err, b)
		}
	})
	if buildErr != nil {
		t.Fatalf("build: %v", buildErr)
	}
	return filepath.Join(buildDir, "hemostatd")
}
