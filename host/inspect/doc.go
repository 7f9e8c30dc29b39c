// Package inspect reads what hemostatd leaves in Redis — the daemons'
// heartbeats, the containers' stats and decisions, the event logs — for
// `hemostatd status` and `hemostatd events`. It talks to Redis only, so it
// works while the daemon is down and against any Redis the daemon uses.
package inspect
