// Package role holds hemostatd's four role runners: monitor, analyzer,
// responder and alert.
//
// Each runner talks to the others only through Redis — it subscribes to the
// channels of the protocol and publishes envelopes — never by a Go call, so
// that any one of them can be turned off and replaced by an external agent
// that speaks the same protocol. The runners call their plugins through the
// supervisor's adapters, which apply deadlines and survive plugin restarts.
package role
