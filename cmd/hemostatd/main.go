// Command hemostatd keeps Docker containers healthy: it watches them, judges
// what it sees, fixes what is broken and tells people. main only parses
// flags and wires; the daemon lives in host/daemon.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hemostat/hemostat/host/config"
	"github.com/hemostat/hemostat/host/daemon"
	"github.com/hemostat/hemostat/host/logline"
	"github.com/hemostat/hemostat/plugins/builtin"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `Usage:
  hemostatd [-config FILE]             run the daemon (no file: built-in defaults);
                                       SIGHUP re-reads FILE
  hemostatd validate -config FILE      check a config file and every plugin's settings
  hemostatd plugins [-config FILE]     list built-in and custom plugins
  hemostatd silence add|list|expire    manage alert silences (through the API)
  hemostatd status [-redis ADDR]       Redis, the daemons' heartbeats, plugins and
                                       containers, read from Redis (works while the
                                       daemon is down)
  hemostatd events [-type T] [-container C] [-follow] [-json] [-redis ADDR]
                                       the event logs, then (-follow) live events
  hemostatd version                    print the version
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	builtin.Version = version
	if len(args) > 0 {
		switch args[0] {
		case "plugin":
			return servePlugin(args[1:], stderr)
		case "validate":
			return validate(args[1:], stdout, stderr)
		case "plugins":
			return listPlugins(args[1:], stdout, stderr)
		case "silence":
			return silenceCmd(args[1:], stdout, stderr)
		case "status":
			return statusCmd(args[1:], stdout, stderr)
		case "events":
			return eventsCmd(args[1:], stdout, stderr)
		case "version":
			fmt.Fprintln(stdout, "hemostatd", version)
			return 0
		case "help", "-h", "-help", "--help":
			fmt.Fprint(stdout, usage)
			return 0
		}
	}
	return serve(args, stderr)
}

// servePlugin is the entry point of a built-in plugin subprocess.
func servePlugin(args []string, stderr io.Writer) int {
	if len(args) != 2 {
		fmt.Fprintln(stderr, "usage: hemostatd plugin <role> <name> (run by hemostatd itself)")
		return 2
	}
	if err := builtin.Serve(args[0], args[1]); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

func flags(name string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "HCL config file (default: built-in defaults)")
	return fs, path
}

// parseConfig parses a subcommand's flags and loads its config; on failure
// it has printed why and cfg is nil, with the exit code to return.
func parseConfig(name string, args []string, stderr io.Writer) (cfg *config.Config, code int) {
	fs, path := flags(name, stderr)
	if err := fs.Parse(args); err != nil {
		return nil, 2
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil, 1
	}
	return cfg, 0
}

func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		return config.Default(), nil
	}
	return config.Load(path)
}

func serve(args []string, stderr io.Writer) int {
	cfg, code := parseConfig("hemostatd", args, stderr)
	if cfg == nil {
		return code
	}
	log := newLogger(cfg, stderr)
	self, err := os.Executable()
	if err != nil {
		log.Error("cannot find my own executable to run built-in plugins", "error", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	// The supervisor stops its plugins on every return path; this catches
	// any client go-plugin still tracks should that path panic.
	defer plugin.CleanupClients()
	err = daemon.Run(ctx, daemon.Options{Config: cfg, Logger: log, Self: self, Version: version, Reload: hup})
	var cerrs config.Errors
	switch {
	case errors.As(err, &cerrs):
		fmt.Fprintln(stderr, cerrs)
		return 1
	case err != nil:
		log.Error("hemostatd stopped", "error", err)
		return 1
	}
	log.Info("hemostatd stopped")
	return 0
}

func validate(args []string, stdout, stderr io.Writer) int {
	fs, path := flags("validate", stderr)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *path == "" {
		fmt.Fprintln(stderr, "validate: -config FILE is required")
		return 2
	}
	cfg, err := config.Load(*path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	self, log, ok := toolSetup(stderr)
	if !ok {
		return 1
	}
	if err := daemon.Validate(context.Background(), cfg, self, log); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: ok\n", *path)
	return 0
}

func listPlugins(args []string, stdout, stderr io.Writer) int {
	cfg, code := parseConfig("plugins", args, stderr)
	if cfg == nil {
		return code
	}
	self, log, ok := toolSetup(stderr)
	if !ok {
		return 1
	}
	list, warnings, err := daemon.ListPlugins(context.Background(), cfg.PluginDir, self, log)
	for _, w := range warnings {
		fmt.Fprintf(stderr, "warning: skipped %s: %s\n", w.Path, w.Reason)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	daemon.WriteListing(stdout, list)
	return 0
}

// toolSetup is what the validate and plugins subcommands share: the
// executable that serves built-in plugins, and a quiet logger.
func toolSetup(stderr io.Writer) (self string, log hclog.Logger, ok bool) {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return "", nil, false
	}
	// Quiet: these commands start plugins only to ask them something and
	// stop them at once, which go-plugin reports as errors; whatever goes
	// wrong is returned and printed plainly.
	return self, hclog.New(&hclog.LoggerOptions{Name: "hemostatd", Level: hclog.Off, Output: stderr}), true
}

func newLogger(cfg *config.Config, out io.Writer) hclog.Logger {
	json := cfg.LogFormat == "json"
	if !json {
		// Values from Redis and the engine end up in messages as well as
		// fields: no entry may span lines or carry terminal controls.
		// JSON output escapes them by itself.
		out = logline.NewWriter(out, 0)
	}
	return hclog.New(&hclog.LoggerOptions{
		Name:       "hemostatd",
		Level:      hclog.LevelFromString(cfg.LogLevel),
		Output:     out,
		JSONFormat: json,
	})
}
