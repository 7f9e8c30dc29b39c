// Package protocol is the HemoStat wire protocol in Go types: channel and
// key names, TTLs, the envelope and the data of every event type, with
// strict decoding so that a malformed message is rejected with a reason
// instead of half-read.
//
// The binding text is the project's PROTOCOL.md; the README lists the
// extension keys and fields HemoStat adds beside it.
package protocol
