// Package dockere2e runs hemostatd as a real process against a real
// redis-server and the real Docker engine, and checks that it heals real
// containers the way the README promises — and leaves alone the ones it
// must not touch.
//
// Each scenario starts its own hemostatd (built once per test run) with a
// configuration tuned for speed: one-second sampling, short sustain, grace
// and backoff windows, a small circuit breaker. Its monitor is scoped to the
// scenario's own containers through exclude globs (see scopeExcludes), so
// scenarios run in parallel without healing each other's containers, nor
// the containers of other packages' tests sharing the engine.
//
// A raw Redis PSUBSCRIBE records every envelope. A scenario asserts the
// exact sequence of envelopes about its container (types, issues, actions,
// statuses, reasons) and the container's final state through the Engine
// API (running or exited, StartedAt, memory limit).
//
// The scenario that restarts dockerd runs last, after every other scenario
// has finished, inside TestHealing; see engine_restart_test.go for why that
// is safe.
//
// The benchmarks time detection: from the engine's own event time
// (timeNano) to the health_alert's arrival on a Redis subscriber, against
// the baseline of the same event's arrival on the benchmark's own engine
// event subscriber:
//
//	go test -run XXX -bench . ./internal/dockere2e/
package dockere2e
