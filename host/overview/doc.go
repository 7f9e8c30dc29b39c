// Package overview keeps what the dashboard and the JSON API show about
// every watched container: its latest status and resource history, the
// last alert, the decision trail, the last action, and an escalation that
// stays pinned until the container is healthy again.
//
// It learns from the bus — every envelope of every protocol type, whoever
// published it — and from the monitor's samples, and it replays the event
// logs when it starts, so a restarted hemostatd does not show an empty
// page. The overall state of a container (healthy, watching, acting,
// backing_off, escalated, silenced) is computed when asked, from this
// record, the safety gate's snapshot and the active silences.
//
// It also times incidents for Prometheus: engine event to health_alert
// (hemostat_detect_seconds) and health_alert to a successful remediation
// (hemostat_remediate_seconds), and counts escalations by source.
//
// A success is put on trial: if the container is acted on or escalated
// again within the relapse window (the responder's backoff.reset_after),
// the restart did not hold. It is counted as a relapse
// (hemostat_remediation_relapses_total), marked so in the remediation
// list, and left out of the success rate, which would otherwise show a
// crash loop the breaker had to stop as 100 % successful.
package overview
