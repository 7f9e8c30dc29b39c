// Package daemon is hemostatd as a library: it opens Redis, starts the
// plugins under the supervisor, registers the role runners on the bus and
// serves HTTP, and on the way out stops every plugin process and flushes
// the event logs so that nothing is lost.
package daemon
