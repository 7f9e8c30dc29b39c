package bus

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/sdk"
)

//go:embed remediation.lua
var remediationLua string

var remediationScript = redis.NewScript(remediationLua)

func seconds(d time.Duration) int { return int(d / time.Second) }

// SetStats writes a container's latest stats to hemostat:stats:<name>,
// expiring after protocol.StatsTTL.
func (b *Bus) SetStats(ctx context.Context, s protocol.Stats) error {
	if err := checkName("container name", s.Name); err != nil {
		return err
	}
	raw, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("bus: encode stats of %s: %w", s.Name, err)
	}
	key := protocol.StatsKey(s.Name)
	if err := b.client.Set(ctx, key, raw, protocol.StatsTTL).Err(); err != nil {
		return fmt.Errorf("bus: set %s: %w", key, err)
	}
	return nil
}

// Stats reads a container's latest stats; false when there are none.
func (b *Bus) Stats(ctx context.Context, container string) (protocol.Stats, bool, error) {
	var s protocol.Stats
	ok, err := b.getJSON(ctx, protocol.StatsKey(container), container, &s)
	return s, ok, err
}

// RecordRemediation counts a remediation in hemostat:remediation:<name>
// ({"last_action", "count"}, protocol.RemediationTTL) and appends it to
// the container's decision history, in one atomic script. A zero r.Time
// means now. It returns the new record.
func (b *Bus) RecordRemediation(ctx context.Context, container string, r sdk.Remediation) (protocol.RemediationRecord, error) {
	return b.RecordAction(ctx, container, r, nil, 0)
}

// RecordAction is RecordRemediation that also writes the container's
// safety-gate state (see SaveGate) in the same script, when gateState is
// not nil: a new lease holder never finds an action counted in the record
// but missing from the backoff, even on a Cluster (one hash tag).
func (b *Bus) RecordAction(ctx context.Context, container string, r sdk.Remediation, gateState any, ttl time.Duration) (protocol.RemediationRecord, error) {
	if err := checkName("container name", container); err != nil {
		return protocol.RemediationRecord{}, err
	}
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	r.Time = r.Time.UTC()
	raw, err := json.Marshal(r)
	if err != nil {
		return protocol.RemediationRecord{}, fmt.Errorf("bus: encode remediation of %s: %w", container, err)
	}
	lastAction := r.Time.Format(protocol.StatsTimestampFormat)
	recordKey, historyKey := protocol.RemediationKey(container), protocol.DecisionsKey(container)
	// The history key carries the record key as its hash tag, so even a
	// Cluster runs this one script on both.
	keys := []string{recordKey, historyKey}
	args := []any{lastAction, seconds(protocol.RemediationTTL), raw, protocol.DecisionsMax, seconds(protocol.HistoryTTL)}
	if gateState != nil {
		state, err := json.Marshal(gateState)
		if err != nil {
			return protocol.RemediationRecord{}, fmt.Errorf("bus: encode gate state of %s: %w", container, err)
		}
		keys = append(keys, protocol.GateKey(container))
		args = append(args, state, max(ttl, time.Second).Milliseconds())
	}
	count, err := remediationScript.Run(ctx, b.client, keys, args...).Int()
	if err != nil {
		return protocol.RemediationRecord{}, fmt.Errorf("bus: record remediation of %s: %w", container, err)
	}
	return protocol.RemediationRecord{LastAction: lastAction, Count: count}, nil
}

// RemediationRecord reads hemostat:remediation:<name>; false when there is
// none.
func (b *Bus) RemediationRecord(ctx context.Context, container string) (protocol.RemediationRecord, bool, error) {
	var rec protocol.RemediationRecord
	ok, err := b.getJSON(ctx, protocol.RemediationKey(container), container, &rec)
	return rec, ok, err
}

// Remediations reads a container's decision history, oldest first.
func (b *Bus) Remediations(ctx context.Context, container string) ([]sdk.Remediation, error) {
	return readList[sdk.Remediation](ctx, b, protocol.DecisionsKey(container), container, 0)
}

// AppendSample appends a sample to its container's history, capped at
// protocol.HistoryMax and expiring protocol.HistoryTTL after the last
// write, in one round trip.
func (b *Bus) AppendSample(ctx context.Context, s sdk.Sample) error {
	if err := checkName("container name", s.Container); err != nil {
		return err
	}
	raw, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("bus: encode sample of %s: %w", s.Container, err)
	}
	return b.pushCapped(ctx, protocol.HistoryKey(s.Container), raw, protocol.HistoryMax)
}

// pushCapped appends to a capped history list in one MULTI/EXEC.
func (b *Bus) pushCapped(ctx context.Context, key string, raw []byte, keep int) error {
	_, err := b.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.RPush(ctx, key, raw)
		p.LTrim(ctx, key, int64(-keep), -1)
		p.Expire(ctx, key, protocol.HistoryTTL)
		return nil
	})
	if err != nil {
		return fmt.Errorf("bus: append to %s: %w", key, err)
	}
	return nil
}

// History reads a container's newest n samples, oldest first; n <= 0
// means all that are kept.
func (b *Bus) History(ctx context.Context, container string, n int) ([]sdk.Sample, error) {
	return readList[sdk.Sample](ctx, b, protocol.HistoryKey(container), container, n)
}

// GetState reads a shared-state value; false when there is none.
func (b *Bus) GetState(ctx context.Context, key string) (json.RawMessage, bool, error) {
	if err := checkName("state key", key); err != nil {
		return nil, false, err
	}
	raw, err := b.client.Get(ctx, protocol.StateKey(key)).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("bus: get %s: %w", protocol.StateKey(key), err)
	}
	return json.RawMessage(raw), true, nil
}

// SetState writes a shared-state value, which must be JSON. A ttl of 0
// keeps it until it is overwritten.
func (b *Bus) SetState(ctx context.Context, key string, value json.RawMessage, ttl time.Duration) error {
	if err := checkName("state key", key); err != nil {
		return err
	}
	if !json.Valid(value) {
		return fmt.Errorf("bus: state %s: value is not valid JSON", key)
	}
	if ttl < 0 {
		return fmt.Errorf("bus: state %s: negative TTL %s", key, ttl)
	}
	if err := b.client.Set(ctx, protocol.StateKey(key), []byte(value), ttl).Err(); err != nil {
		return fmt.Errorf("bus: set %s: %w", protocol.StateKey(key), err)
	}
	return nil
}

// getJSON reads a JSON string key into v; false when the key is absent.
func (b *Bus) getJSON(ctx context.Context, key, container string, v any) (bool, error) {
	if err := checkName("container name", container); err != nil {
		return false, err
	}
	raw, err := b.client.Get(ctx, key).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("bus: get %s: %w", key, err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, fmt.Errorf("bus: %s holds invalid JSON: %w", key, err)
	}
	return true, nil
}

// readList reads the newest n JSON entries of a list (all when n <= 0),
// oldest first. Entries that do not decode — another writer's mistake —
// are skipped with a warning rather than hiding the rest.
func readList[T any](ctx context.Context, b *Bus, key, container string, n int) ([]T, error) {
	if err := checkName("container name", container); err != nil {
		return nil, err
	}
	raws, err := b.client.LRange(ctx, key, listStart(n), -1).Result()
	if err != nil {
		return nil, fmt.Errorf("bus: read %s: %w", key, err)
	}
	return decodeList[T](b, key, raws), nil
}

// listStart is LRANGE's start for the newest n entries; 0 for all.
func listStart(n int) int64 {
	if n > 0 {
		return int64(-n)
	}
	return 0
}

// HistoryAndRemediations reads what History(container, n) and
// Remediations(container) read, in one round trip: the analyzer needs both
// for every alert, and under a burst the round trips are its largest cost.
func (b *Bus) HistoryAndRemediations(ctx context.Context, container string, n int) ([]sdk.Sample, []sdk.Remediation, error) {
	if err := checkName("container name", container); err != nil {
		return nil, nil, err
	}
	hKey, rKey := protocol.HistoryKey(container), protocol.DecisionsKey(container)
	var h, r *redis.StringSliceCmd
	err := b.joiner.do(ctx, func(p redis.Pipeliner) {
		h = p.LRange(ctx, hKey, listStart(n), -1)
		r = p.LRange(ctx, rKey, 0, -1)
	})
	if err == nil {
		err = errors.Join(h.Err(), r.Err())
	}
	if err != nil {
		return nil, nil, fmt.Errorf("bus: read %s and %s: %w", hKey, rKey, err)
	}
	return decodeList[sdk.Sample](b, hKey, h.Val()), decodeList[sdk.Remediation](b, rKey, r.Val()), nil
}

// decodeList decodes a history list's JSON entries, skipping (and
// logging) any that do not decode.
func decodeList[T any](b *Bus, key string, raws []string) []T {
	out := make([]T, 0, len(raws))
	for i, raw := range raws {
		var v T
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			b.log.Warn("skipping an unreadable history entry", "key", key, "index", i, "error", err)
			continue
		}
		out = append(out, v)
	}
	return out
}
