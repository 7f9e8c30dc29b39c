package sdk

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// ServeConfig describes the plugin a binary serves.
type ServeConfig struct {
	// Name and Version identify the plugin in hemostatd's listings and logs.
	Name    string
	Version string
	// Plugin implements exactly one of Monitor, Analyzer, Responder or
	// Notifier.
	Plugin Plugin
	// Logger defaults to Logger(Name).
	Logger hclog.Logger
}

// Serve serves the plugin to hemostatd and blocks until hemostatd stops it.
// It is the last call of a plugin's main. Run by hand, outside hemostatd, it
// prints a short explanation and exits.
func Serve(cfg ServeConfig) {
	set, err := servedPlugins(Info{Name: cfg.Name, Version: cfg.Version}, cfg.Plugin)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = Logger(cfg.Name)
	}
	// hemostatd owns the plugin's life: it asks with a Shutdown call, then
	// kills, and the kernel kills the plugin should hemostatd die. A
	// SIGTERM sent to the whole process group — by a service manager, or
	// timeout(1) — must not cut that orderly shutdown short. go-plugin
	// already ignores SIGINT for the same reason.
	signal.Ignore(syscall.SIGTERM)
	stopProfile := startProfile(cfg.Name)
	defer stopProfile()
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: map[int]plugin.PluginSet{ProtocolVersion: set},
		GRPCServer:       plugin.DefaultGRPCServer,
		Logger:           logger,
	})
}

// Logger returns the logger a plugin should use. Its JSON lines on stderr
// are parsed by hemostatd and re-logged with the plugin's name; stdout
// belongs to the go-plugin handshake and must never be written to.
func Logger(name string) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:       name,
		Level:      hclog.Trace,
		Output:     os.Stderr,
		JSONFormat: true,
	})
}
