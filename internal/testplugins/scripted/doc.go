// Package scripted holds plugins for the host's own tests: real plugins,
// served over the real go-plugin transport, whose misbehaviour (crashing,
// hanging, rejecting settings) is chosen through their settings so that a
// test can provoke every failure the plugin supervisor must survive.
//
// The binaries beside this package (analyzer, monitor, responder,
// notifier) serve one role each; tests build them into a temporary
// directory. Nothing here is shipped in hemostatd.
package scripted
