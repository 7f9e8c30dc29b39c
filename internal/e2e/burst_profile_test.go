package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hemostat/hemostat/sdk"
)

// burstProfileEnv names a directory: when set, BenchmarkBurst serves
// hemostatd's pprof endpoint, saves a CPU profile of hemostatd for each of
// its bursts there (hemostatd-<burst>-<run>.cpu.pprof, and the allocation
// profile after it), and has the plugins profile themselves there too
// (sdk.ProfileEnv). Profiling costs a few per cent, so figures of a
// profiled run are not the README's.
const burstProfileEnv = "HEMOSTAT_BURST_PROFILE_DIR"

// burstProfileDir is burstProfileEnv's directory, or "" when not profiling;
// it turns on the plugins' own profiles.
func burstProfileDir(b *testing.B, cfg string) (dir, config string) {
	dir = os.Getenv(burstProfileEnv)
	if dir == "" {
		return "", cfg
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	b.Setenv(sdk.ProfileEnv, dir)
	return dir, strings.Replace(cfg, `http  { address = "{{http}}" }`, `http  {
  address = "{{http}}"
  pprof   = true
}`, 1)
}

// profileCPU fetches a CPU profile of hemostatd over seconds into
// dir/name.cpu.pprof; wait for the returned channel before the next.
func profileCPU(b *testing.B, d *daemon, dir, name string, seconds int) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fetchProfile(b, d, fmt.Sprintf("profile?seconds=%d", seconds), filepath.Join(dir, name+".cpu.pprof"))
		fetchProfile(b, d, "allocs", filepath.Join(dir, name+".allocs.pprof"))
	}()
	return done
}

func fetchProfile(b *testing.B, d *daemon, what, path string) {
	resp, err := http.Get("http://" + d.HTTPAddr() + "/debug/pprof/" + what)
	if err != nil {
		b.Errorf("profile %s: %v", what, err)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Errorf("profile %s: %s", what, resp.Status)
		return
	}
	f, err := os.Create(path)
	if err != nil {
		b.Error(err)
		return
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		b.Error(err)
	}
}
