// Package bus is hemostatd's side of the HemoStat wire protocol: it
// publishes envelopes on the hemostat:<type> channels, keeps the
// hemostat:events:<type> event logs, delivers received envelopes to
// handlers, and reads and writes the protocol's keys (stats, remediation
// records) and HemoStat's extension keys (histories, shared state).
//
// Role runners talk to each other only through a Bus, so anything else that
// speaks the protocol — another agent, redis-cli, a dashboard — sees and
// takes part in everything.
//
// # Speed
//
// Publishing is a plain PUBLISH; delivery is never delayed. Each published
// envelope must also land in its type's event log, a JSON array string of
// the newest 100 envelopes. Rewriting a 30 KB string per event would cut
// throughput by an order of magnitude, so appends are queued per type and
// written in batches — every FlushInterval, or as soon as MaxBatch are
// waiting — by one atomic Lua script per batch. The script keeps the raw
// envelope strings in a companion list and joins them, so the log holds
// exactly the bytes that were published, never a re-encoding.
//
// # Failure
//
// Messages that do not decode are logged, counted and skipped. When Redis
// goes away, Run retries with exponential backoff (RetryInitial, doubling,
// at most RetryMax tries, as the protocol asks) and re-subscribes; after the
// last try it returns a *FatalError. Queued event-log batches survive the
// outage and are written when Redis is back, or by Close.
package bus
