package dockere2e

import "testing"

func testEngineRestart(t *testing.T) {}
