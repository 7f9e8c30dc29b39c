// Package silence keeps the alert role's silences in Redis: "do not tell
// anyone about containers matching this pattern (and this kind of event)
// until then, because …". Every hemostatd on the same Redis, and every
// tool that reads it, sees the same silences; a silenced notification is
// counted on its silence, never sent.
//
// The store is one Redis hash, hemostat:silences (id → the silence as
// JSON), and one of counters, hemostat:silences:silenced (id → how many
// notifications it held back). Expired silences are kept for a day, so
// that a list still shows what was muted overnight, then pruned.
package silence
