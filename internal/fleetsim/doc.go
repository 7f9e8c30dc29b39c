// Package fleetsim is a load generator that speaks to Redis as the
// hemostatd of a whole fleet would: every host's monitor writes a sample of
// each container every few seconds (the stats key with its TTL and the
// capped history list), incidents publish health_alert, remediation_needed
// and remediation_complete through each host's own bus — PUBLISH and the
// event-log Lua script, exactly the project's publish path — and every
// host's daemon holds one subscription to every event type, so each
// envelope fans out to as many subscribers as there are hosts.
//
// It measures what Redis pays for that: its CPU (INFO cpu of every node),
// commands per second and where their time goes (INFO commandstats), the
// publish round trip's p50 and p99, and subscribers Redis cut for falling
// behind. The benchmarks in this package run it for 100, 1 000 and 10 000
// hosts against one redis-server and against a 3-master Redis Cluster; the
// README's "Fleet figures and projection" reads their output.
package fleetsim
