// Package sdk is what a HemoStat plugin author imports.
//
// A plugin implements one role interface in plain Go types — Monitor,
// Analyzer, Responder or Notifier — and calls Serve from its main function.
// The go-plugin and gRPC glue, the handshake, mutual TLS and logging to the
// host are handled here; see examples/ for a complete plugin in under 40
// lines, and Harness for running a plugin in-process in tests.
//
// Plugins are stateless workers: hemostatd owns Redis and the wire protocol.
// A plugin that needs shared state calls back into the host through the Host
// interface it receives in Configure.
package sdk
