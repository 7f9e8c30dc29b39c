// Package redisconn opens hemostatd's connection to Redis.
//
// With no address configured it starts an embedded, in-process Redis on
// loopback so that the daemon runs alone with zero configuration. With
// addresses it connects to a real deployment — a single server, a Sentinel
// group (when a master name is set) or a Cluster (several addresses) — with
// AUTH and TLS, and checks the connection with PING before returning.
package redisconn
