// Package builtin lists the plugins compiled into hemostatd. hemostatd runs
// each of them as a subprocess of its own binary ("hemostatd plugin <role>
// <name>"), so a built-in plugin is isolated exactly like a custom one and
// `go run ./cmd/hemostatd` needs no separate build.
package builtin

import (
	"fmt"
	"sort"

	slack "github.com/hemostat/hemostat/plugins/alert-slack"
	webhook "github.com/hemostat/hemostat/plugins/alert-webhook"
	llm "github.com/hemostat/hemostat/plugins/analyzer-llm"
	threshold "github.com/hemostat/hemostat/plugins/analyzer-threshold"
	"github.com/hemostat/hemostat/plugins/monitor"
	dockerresponder "github.com/hemostat/hemostat/plugins/responder-docker"
	"github.com/hemostat/hemostat/sdk"
)

// Version is the version built-in plugins report.
var Version = "dev"

// Entry names one built-in plugin.
type Entry struct {
	Role string
	Name string
	New  func() sdk.Plugin
}

var entries = []Entry{
	{Role: sdk.RoleMonitor, Name: "docker", New: func() sdk.Plugin { return monitor.New() }},
	{Role: sdk.RoleAnalyzer, Name: "threshold", New: func() sdk.Plugin { return threshold.New() }},
	{Role: sdk.RoleAnalyzer, Name: "llm", New: func() sdk.Plugin { return llm.New() }},
	{Role: sdk.RoleResponder, Name: "docker", New: func() sdk.Plugin { return dockerresponder.New() }},
	{Role: sdk.RoleAlert, Name: slack.Name, New: func() sdk.Plugin { return slack.New() }},
	{Role: sdk.RoleAlert, Name: webhook.Name, New: func() sdk.Plugin { return webhook.New() }},
}

// List returns every built-in plugin, by role then name.
func List() []Entry {
	out := append([]Entry(nil), entries...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Role != out[j].Role {
			return out[i].Role < out[j].Role
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Has reports whether a built-in plugin plays role under name.
func Has(role, name string) bool {
	_, ok := lookup(role, name)
	return ok
}

func lookup(role, name string) (Entry, bool) {
	for _, e := range entries {
		if e.Role == role && e.Name == name {
			return e, true
		}
	}
	return Entry{}, false
}

// Serve serves one built-in plugin over go-plugin; it is what the plugin
// subprocess runs and returns only when hemostatd stops it.
func Serve(role, name string) error {
	e, ok := lookup(role, name)
	if !ok {
		return fmt.Errorf("no built-in %s plugin named %q", role, name)
	}
	webhook.Version = Version
	sdk.Serve(sdk.ServeConfig{Name: name, Version: Version, Plugin: e.New()})
	return nil
}
