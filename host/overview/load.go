package overview

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/bus"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/sdk"
)

// Subscribe feeds the model every envelope of every logged type the bus
// receives (the protocol's and foreign_action). Call it before the bus runs.
func (m *Model) Subscribe(b *bus.Bus) {
	for _, t := range protocol.LoggedTypes {
		b.Subscribe(t, func(_ context.Context, env protocol.Envelope) { m.Apply(env) })
	}
}

// statsRefresh is how often Run reads the stats keys, for containers a
// monitor outside this hemostatd watches.
const statsRefresh = 15 * time.Second

// Run loads what Redis remembers — the event logs, the stats keys and the
// sample histories — then re-reads the stats keys every statsRefresh until
// ctx ends. A Redis error is not fatal: the page shows what the bus brings.
func (m *Model) Run(ctx context.Context, client redis.UniversalClient, b *bus.Bus) error {
	m.Load(ctx, client, b)
	t := time.NewTicker(statsRefresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			m.refreshStats(ctx, client)
		}
	}
}

// Load replays the event logs, oldest envelope first, and seeds every
// container that has a stats key with its history.
func (m *Model) Load(ctx context.Context, client redis.UniversalClient, b *bus.Bus) {
	var all []protocol.Envelope
	for _, t := range protocol.LoggedTypes {
		all = append(all, ReadLog(ctx, client, t)...)
	}
	slices.SortStableFunc(all, func(a, b protocol.Envelope) int { return strings.Compare(a.Timestamp, b.Timestamp) })
	for _, env := range all {
		m.Replay(env)
	}
	for _, name := range m.refreshStats(ctx, client) {
		hist, err := b.History(ctx, name, HistoryPoints*2)
		if err != nil {
			continue
		}
		m.seedHistory(name, hist)
	}
}

// ReadLog returns a type's event log, oldest first; nothing when it is
// missing or unreadable.
func ReadLog(ctx context.Context, client redis.UniversalClient, eventType string) []protocol.Envelope {
	raw, err := client.Get(ctx, protocol.EventLogKey(eventType)).Result()
	if err != nil {
		return nil
	}
	var entries []json.RawMessage
	if json.Unmarshal([]byte(raw), &entries) != nil {
		return nil
	}
	out := make([]protocol.Envelope, 0, len(entries))
	for _, e := range entries {
		if env, err := protocol.DecodeEnvelope(e, eventType); err == nil {
			out = append(out, env)
		}
	}
	return out
}

// seedHistory puts the resource samples of hist before what the model
// has: they are older than anything received since the start.
func (m *Model) seedHistory(name string, hist []sdk.Sample) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.containers[name]
	if r == nil {
		return
	}
	var pts []Point
	for _, s := range hist {
		if s.Event == "" && (len(r.history) == 0 || s.Time.Before(r.history[0].At)) {
			pts = append(pts, Point{At: s.Time, CPUPct: s.CPUPct, MemoryPct: s.MemoryPct})
		}
	}
	r.history = append(pts, r.history...)
	if n := len(r.history); n > HistoryPoints {
		r.history = append(r.history[:0:0], r.history[n-HistoryPoints:]...)
	}
}

// refreshStats reads every stats key into the model and returns the
// containers it found.
func (m *Model) refreshStats(ctx context.Context, client redis.UniversalClient) []string {
	keys := ScanKeys(ctx, client, protocol.StatsKey("*"))
	var names []string
	for _, k := range keys {
		raw, err := client.Get(ctx, k).Result()
		if err != nil {
			continue
		}
		var st protocol.Stats
		if json.Unmarshal([]byte(raw), &st) != nil {
			continue
		}
		if st.Name == "" {
			st.Name = strings.TrimPrefix(k, protocol.StatsKey(""))
		}
		m.Stats(st)
		names = append(names, st.Name)
	}
	return names
}

// ScanKeys returns the keys matching pattern, sorted, from every primary
// of a Cluster.
func ScanKeys(ctx context.Context, client redis.UniversalClient, pattern string) []string {
	var mu sync.Mutex
	var keys []string
	scan := func(ctx context.Context, c redis.Cmdable) error {
		it := c.Scan(ctx, 0, pattern, 200).Iterator()
		for it.Next(ctx) {
			mu.Lock()
			keys = append(keys, it.Val())
			mu.Unlock()
		}
		return it.Err()
	}
	if c, ok := client.(*redis.ClusterClient); ok {
		_ = c.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error { return scan(ctx, node) })
	} else {
		_ = scan(ctx, client)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}
