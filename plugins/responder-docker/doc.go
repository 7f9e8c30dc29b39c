// Package dockerresponder is HemoStat's built-in responder: it carries out
// remediation actions on containers through the Docker Engine API.
//
// The host's safety gate (backoff, circuit breaker, minimum confidence,
// allowlist, protected containers, dry-run) runs before Remediate is called.
// This package adds the checks only the engine can answer: a paused
// container is not restarted, nor one Docker's own restart policy is already
// bringing back, nor one a person stopped, nor one still inside its start
// grace when the trigger was a resource threshold. After a restart or start
// it waits until the container runs — and is healthy when it has a
// healthcheck — so that "success" means the container is back, not merely
// that the API call returned. It acts only on the container named, never on
// one the engine matched by an ID prefix because the name has gone
// (reference.go), and never restarts a dependent that opted out, matches
// protect_dependents or is its own container (self.go).
//
// Every action is described by one file: lifecycle.go (restart, stop,
// start, kill, unpause), resources.go (update_resources), exec.go,
// cleanup.go and scale.go. safety.go holds the Docker-native checks,
// verify.go the wait for a healthy container and dependents.go the
// containers that share a restarted container's network namespace.
// foreign.go notices another healer on the same engine: restarts, stops
// and kills around its own that it did not make.
package dockerresponder
