// Package supervisor runs HemoStat's plugins as child processes over
// hashicorp/go-plugin and gRPC, and keeps them running.
//
// # Lifecycle
//
// Start launches a plugin (its own executable, or hemostatd re-run with
// Options.BuiltinArgs for a built-in one), with AutoMTLS on, gRPC as the
// only protocol and the SDK's versioned plugin sets. It asks the plugin
// for its Info to check that it serves the role its Spec names, then
// calls Configure with the Spec's settings and Options.Host, which the
// plugin reaches back through the go-plugin broker. A rejection of the
// settings comes back as the plugin's own sdk.ConfigErrors so that the
// caller can point at the config file's lines.
//
// # Calls
//
// A Plugin hands out role adapters (Monitor, Analyzer, Responder,
// Notifier) that the role runners keep for the daemon's lifetime. Each
// call goes to whichever process is running at that moment, under the
// Spec's Timeout (Watch streams excepted). A call that finds the process
// dead or the transport broken wraps ErrUnavailable and makes the watcher
// check the process at once; while a plugin is being restarted, calls fail
// at once with ErrUnavailable instead of queueing, so the analyzer chain
// can fall through to the next analyzer and the host never waits on a
// broken plugin.
//
// # Crashes and hangs
//
// go-plugin does not restart a plugin that died, so each Plugin has a
// watcher goroutine, owned by the Supervisor and ended by Stop. It polls
// the process for an exit and pings the plugin's gRPC health service every
// Options.PingInterval within Spec.Timeout; go-plugin's own Ping has no
// deadline and would wait on a frozen plugin for ever. A dead or frozen
// process is killed and replaced after a capped exponential backoff
// (RestartInitial doubling to RestartMax, reset once a plugin has run for
// a minute) and configured again with the same settings and host. Failures
// that a retry cannot cure (the binary no longer matches its SHA-256 pin,
// the settings are rejected, the binary serves another role) leave the
// plugin "failed"; the host keeps running either way. Restarts are counted
// in Status and in hemostat_plugin_restarts_total{role,name};
// hemostat_plugin_up{role,name} is 1 while a process runs.
//
// # No orphans
//
// A plugin must not outlive hemostatd. On Linux each child gets
// Pdeathsig=SIGKILL, so even a SIGKILLed host takes its plugins with it.
// On an orderly exit the caller runs Stop on every path (it is idempotent
// and safe from a signal handler's path): a Shutdown RPC first, bounded by
// the caller's context, because go-plugin's Kill grants only a short grace
// before it kills; then Kill; then go-plugin's CleanupClients. The
// supervisor's own clients are not go-plugin "managed" clients, which
// go-plugin never forgets: a plugin in a crash loop would grow that list
// without bound.
//
// # Logs
//
// stdout belongs to the go-plugin handshake. Plugins log JSON lines on
// stderr through hclog (sdk.Logger); go-plugin re-logs them under
// "plugin.<role>.<name>". A copy of each process's stderr feeds a small
// tail (stderrtail.go), so that a process that dies — a panic in main or
// in Configure, an exit — is reported in its own words by Start, Probe,
// the restart log and Status.LastError, not by go-plugin's guess at the
// cause.
//
// # Discovery
//
// Discover lists the executables named hemostat-<role>-<name> in the
// plugin directory, with their SHA-256 for pinning, and says why every
// other entry was skipped. Probe starts one, asks for its Info and stops
// it, for `hemostatd plugins`.
package supervisor
