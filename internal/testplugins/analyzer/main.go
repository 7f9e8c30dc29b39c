// Command analyzer is a scripted analyzer plugin for the host's tests; see package
// scripted for the settings that make it misbehave.
package main

import (
	"github.com/hemostat/hemostat/internal/testplugins/scripted"
	"github.com/hemostat/hemostat/sdk"
)

func main() {
	scripted.Serve(sdk.RoleAnalyzer, "scripted-analyzer")
}
