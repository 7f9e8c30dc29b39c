package dockere2e

import (
	"flag"
	"os"
	"testing"

	"github.com/hemostat/hemostat/internal/daemontest"
)

// defaultParallel is how many scenarios run at once unless -parallel says
// otherwise. Scenarios spend most of their time waiting for timers inside
// hemostatd and the containers, not on the CPU, so more than GOMAXPROCS of
// them keep a small machine busy without starving it.
const defaultParallel = "4"

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
	daemontest.Cleanup()
	os.Exit(code)
}
