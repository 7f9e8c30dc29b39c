package dockere2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/hemostat/hemostat/sdk"
)

// reactionProfileEnv names a directory: when set, BenchmarkReaction serves
// hemostatd's pprof endpoint and saves a CPU profile of hemostatd over the
// measured samples there (hemostatd-reaction-<case>.cpu.pprof), and the
// plugins profile themselves there too (sdk.ProfileEnv). A reaction is
// mostly waiting — on Redis, the plugins, the engine — so the profiles
// say what the CPU did on the way, and the benchmark's hops where the
// milliseconds went.
const reactionProfileEnv = "HEMOSTAT_REACTION_PROFILE_DIR"

// reactionProfileDir is reactionProfileEnv's directory, or "" when not
// profiling; it turns on the plugins' own profiles.
func reactionProfileDir(b *testing.B) string {
	dir := os.Getenv(reactionProfileEnv)
	if dir == "" {
		return ""
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	b.Setenv(sdk.ProfileEnv, dir)
	return dir
}

// profileDaemon profiles hemostatd's CPU into dir/name-<n>.cpu.pprof, ten
// seconds a file, until the returned function is called, which waits for
// the file under way (merge them with go tool pprof -proto); nothing when
// dir is "". The runtime writes a CPU profile only once it ends, so one
// cut off by the benchmark's end would be lost.
func profileDaemon(b *testing.B, d *daemon, dir, name string) (stop func()) {
	if dir == "" {
		return func() {}
	}
	var stopped atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		for n := 0; !stopped.Load(); n++ {
			if err := fetchCPUProfile(d, filepath.Join(dir, fmt.Sprintf("%s-%d.cpu.pprof", name, n))); err != nil {
				b.Errorf("profile: %v", err)
				return
			}
		}
	}()
	return func() {
		stopped.Store(true)
		<-done
	}
}

func fetchCPUProfile(d *daemon, path string) error {
	resp, err := http.Get("http://" + d.HTTPAddr() + "/debug/pprof/profile?seconds=10")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s", resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}
