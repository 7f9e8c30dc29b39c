// Package testenv is test support: it starts the real parts HemoStat's
// tests run against — a redis-server on loopback, the Docker engine's test
// containers — and stops them when the test ends.
//
// Nothing here is a fake. A helper whose part is missing (redis-server not
// installed, no Docker engine) fails the test with a message that says what
// to install or start; it never skips, so a green run means the real parts
// were exercised.
package testenv
