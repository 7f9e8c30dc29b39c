package sdk

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
)

// ProfileEnv names a directory: when set in hemostatd's environment (which
// its plugins inherit), every plugin writes a CPU profile of its whole
// life there, as <name>-<pid>.cpu.pprof, and a heap profile at its orderly
// end. It explains where a plugin's share of a burst goes; a plugin that
// is killed rather than stopped leaves a truncated CPU profile.
const ProfileEnv = "HEMOSTAT_PLUGIN_PROFILE_DIR"

// startProfile starts the CPU profile ProfileEnv asks for and returns what
// ends it.
func startProfile(name string) (stop func()) {
	dir := os.Getenv(ProfileEnv)
	if dir == "" {
		return func() {}
	}
	base := filepath.Join(dir, fmt.Sprintf("%s-%d", name, os.Getpid()))
	f, err := os.Create(base + ".cpu.pprof")
	if err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "profile:", err)
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
		if h, err := os.Create(base + ".heap.pprof"); err == nil {
			pprof.Lookup("allocs").WriteTo(h, 0)
			h.Close()
		}
	}
}
