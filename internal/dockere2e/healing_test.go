package dockere2e

import (
	"testing"

	"github.com/hemostat/hemostat/sdk"
)

// scenario is one end-to-end case with its own hemostatd.
type scenario struct {
	name string
	run  func(t *testing.T)
}

var scenarios = []scenario{
	{"crash is restarted", testCrash},
	{"crash loop backs off then breaker escalates", testCrashLoop},
	{"failing healthcheck is restarted", testUnhealthy},
	{"relapse after recovery is acted on at once", testRelapse},
	{"sustained CPU is restarted", testCPUHog},
	{"short CPU spike is a false alarm", testCPUSpike},
	{"growing memory is restarted before OOM", testMemoryGrowth(sdk.ActionRestart)},
	{"growing memory gets a raised limit", testMemoryGrowth(sdk.ActionUpdateResources)},
	{"steady memory near the limit is a capacity warning", testSteadyMemory},
	{"steady memory near the limit gets a raised limit when allowed", testSteadyMemoryRaised},
	{"cooldown defers a second action", testCooldown},
	{"opt-out label is never touched", testOptOut},
	{"protected container is rejected", testProtected},
	{"forged requests are judged on the resolved container", testForgedRequests},
	{"dry run changes nothing", testDryRun},
	{"manual stop is not undone", testManualStop},
	{"container removed mid-action", testRemovedMidAction},
	{"crash while the monitor plugin restarts is healed once", testCrashDuringMonitorRestart},
	{"another healer on the engine is warned about once", testAnotherHealer},
	{"two hemostatd without a shared Redis warn about each other", testTwoDaemons},
	{"external monitors' alerts are judged and acted on", testExternalMonitor},
}

// TestHealing runs every scenario in parallel, each with its own hemostatd
// and redis-server, then — alone, once they have all finished — the
// scenario that restarts the Docker engine.
func TestHealing(t *testing.T) {
	t.Run("scenarios", func(t *testing.T) {
		for _, sc := range scenarios {
			t.Run(sc.name, func(t *testing.T) {
				t.Parallel()
				sc.run(t)
			})
		}
	})
	t.Run("engine restart is survived", testEngineRestart)
}
