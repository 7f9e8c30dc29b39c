// Package gate is the responder's safety gate: before every remediation the
// responder role asks it whether acting on a container now would help, and
// it answers allow, reject, defer or escalate.
//
// The gate exists so that HemoStat never makes things worse. A naive healer
// restarts a crash-looping container forever; the gate instead spaces the
// actions on one container like Kubernetes' CrashLoopBackOff (10 s, 20 s,
// 40 s, ... capped at 5 min, reset after 10 min of calm), opens a circuit
// breaker after a handful of actions in a sliding window so that a person is
// called instead, and refuses outright to touch protected containers
// (hemostatd itself, its Redis), containers that opted out by label, actions
// outside the allowlist and decisions below the minimum confidence.
//
// Checks run in a fixed order, cheapest and most absolute first:
//
//	protected → opt-out label → opt-in required → action allowlist →
//	minimum confidence → circuit breaker (escalate) → backoff or cooldown
//	(defer) → allow (flagged when dry-run)
//
// A deferred action is parked, never dropped: Defer keeps the newest request
// per container, Due hands it back when its time has come, and the caller
// re-checks that the container is still sick before asking Check again.
//
// The gate is pure logic over an injected clock: it touches neither Redis
// nor Docker, is safe for concurrent use, and forgets a container once it
// has been calm for longer than any rule can remember.
package gate
