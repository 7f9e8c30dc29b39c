// Package e2e runs hemostatd as a real process against a real redis-server,
// with real plugin subprocesses: the test plugins under plugins/, the
// built-in threshold analyzer and the example analyzer from examples/.
//
// The test monitor is scripted through the host callback: a test writes
// samples to the shared state key "e2e-script" in Redis and the plugin,
// reading it back through GetSharedState, streams them to hemostatd. The
// recording responder and alert plugins write what they were asked to do to
// shared state keys the test reads.
package e2e
