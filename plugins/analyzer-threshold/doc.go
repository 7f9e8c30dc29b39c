// Package threshold is HemoStat's rule-based analyzer: a handful of fixed
// rules, each with a reason a person can read, that judge a health alert
// from its issues, the sample that raised it, the container's recent
// samples and its remediation history.
//
// It is compiled into hemostatd and is the fallback of every other analyzer
// (the LLM analyzer among them), so Analyze never fails: any alert, however
// malformed, gets a decision. The rules, from most to least severe:
//
//   - restart loop: too many remediations within a window, or a
//     "Restart loop: …" issue, is escalated to a person; never restarted.
//   - OOM kill and exit with a non-zero code: restart.
//   - failing healthcheck: restart.
//   - memory above its line and rising (a leak), or a monitor's forecast
//     that memory reaches its limit soon: restart.
//   - CPU above its threshold and rising or flat: restart; a lone spike
//     that is already over is a false alarm.
//   - a clean exit (code 0) and issues no rule knows: false alarm.
//
// When an alert carries several issues, the most severe verdict wins
// (escalate, then remediate, then false alarm) and, within a verdict, the
// most severe rule. See README.md for the settings.
package threshold
