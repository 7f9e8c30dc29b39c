// Package monitor is HemoStat's Docker monitor plugin. It watches the
// engine's container events and reports each lifecycle change (die, oom,
// health_status, start, restart, stop, pause, unpause, destroy) the moment
// it happens, and samples the CPU and memory of running containers on an
// interval, computed exactly as docker stats computes them, from the
// containers' cgroup files when they are readable or the Engine API
// otherwise.
//
// The plugin only observes and reports. hemostatd's monitor role turns the
// samples into the stats keys and health alerts of the wire protocol:
// thresholds, sustain windows, grace periods and restart-loop detection
// live there, not here.
package monitor
