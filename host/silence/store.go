package silence

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Keys of the store.
const (
	Key        = "hemostat:silences"
	CounterKey = "hemostat:silences:silenced"
)

// Retention is how long an expired silence is still listed.
const Retention = 24 * time.Hour

// Store reads and writes silences in Redis. It is safe for concurrent use.
type Store struct {
	client redis.UniversalClient
	// Events are the event types and kinds a silence's Event may name.
	events []string
	now    func() time.Time
}

// NewStore returns a store on client; events are the names a silence's
// Event may take.
func NewStore(client redis.UniversalClient, events []string) *Store {
	return &Store{client: client, events: events, now: time.Now}
}

// Add validates and stores a silence, giving it an id and creation time
// when it has none. A silence with the id of a stored one replaces it.
func (st *Store) Add(ctx context.Context, s Silence) (Silence, error) {
	now := st.now()
	if err := s.Validate(now, st.events); err != nil {
		return Silence{}, err
	}
	if s.ID == "" {
		s.ID = newID()
	}
	if s.Created.IsZero() {
		s.Created = now.UTC()
	}
	s.Ends = s.Ends.UTC()
	s.Silenced = 0
	raw, err := json.Marshal(s)
	if err != nil {
		return Silence{}, err
	}
	if err := st.client.HSet(ctx, Key, s.ID, raw).Err(); err != nil {
		return Silence{}, fmt.Errorf("silences: store %s: %w", s.ID, err)
	}
	return s, nil
}

// ConfigID is the id of a silence written in the config file: stable
// across restarts, so that applying the file again replaces it instead of
// adding a copy.
func ConfigID(container, event string) string {
	sum := sha256.Sum256([]byte(container + "\x00" + event))
	return "cfg-" + hex.EncodeToString(sum[:4])
}

// List returns every silence, active ones first (soonest to end first),
// then those ended within Retention (most recent first), each with its
// count. Silences ended longer ago are deleted.
func (st *Store) List(ctx context.Context) ([]Silence, error) {
	all, err := st.read(ctx)
	if err != nil {
		return nil, err
	}
	now := st.now()
	var stale []string
	out := all[:0]
	for _, s := range all {
		if now.Sub(s.Ends) > Retention {
			stale = append(stale, s.ID)
			continue
		}
		out = append(out, s)
	}
	if len(stale) > 0 {
		pipe := st.client.Pipeline()
		pipe.HDel(ctx, Key, stale...)
		pipe.HDel(ctx, CounterKey, stale...)
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, fmt.Errorf("silences: prune: %w", err)
		}
	}
	if len(out) > 0 {
		ids := make([]string, len(out))
		for i, s := range out {
			ids[i] = s.ID
		}
		counts, err := st.client.HMGet(ctx, CounterKey, ids...).Result()
		if err != nil {
			return nil, fmt.Errorf("silences: read counts: %w", err)
		}
		for i, c := range counts {
			if s, ok := c.(string); ok {
				out[i].Silenced, _ = strconv.ParseInt(s, 10, 64)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		ai, aj := out[i].Active(now), out[j].Active(now)
		if ai != aj {
			return ai
		}
		if ai {
			return out[i].Ends.Before(out[j].Ends)
		}
		return out[i].Ends.After(out[j].Ends)
	})
	return out, nil
}

// Get returns one silence.
func (st *Store) Get(ctx context.Context, id string) (Silence, error) {
	raw, err := st.client.HGet(ctx, Key, id).Bytes()
	if err == redis.Nil {
		return Silence{}, ErrNotFound
	}
	if err != nil {
		return Silence{}, fmt.Errorf("silences: read %s: %w", id, err)
	}
	var s Silence
	if err := json.Unmarshal(raw, &s); err != nil {
		return Silence{}, fmt.Errorf("silences: %s is not a silence: %w", id, err)
	}
	return s, nil
}

// Expire ends a silence now. Expiring an expired silence changes nothing.
func (st *Store) Expire(ctx context.Context, id string) (Silence, error) {
	s, err := st.Get(ctx, id)
	if err != nil {
		return Silence{}, err
	}
	now := st.now().UTC()
	if !s.Active(now) {
		return s, nil
	}
	s.Ends = now
	raw, err := json.Marshal(s)
	if err != nil {
		return Silence{}, err
	}
	if err := st.client.HSet(ctx, Key, s.ID, raw).Err(); err != nil {
		return Silence{}, fmt.Errorf("silences: expire %s: %w", id, err)
	}
	return s, nil
}

// Match returns the active silence that mutes a notification, if any, and
// counts the notification on it.
func (st *Store) Match(ctx context.Context, container, eventType, kind string) (Silence, bool, error) {
	all, err := st.read(ctx)
	if err != nil {
		return Silence{}, false, err
	}
	now := st.now()
	for _, s := range all {
		if s.Matches(now, container, eventType, kind) {
			if err := st.client.HIncrBy(ctx, CounterKey, s.ID, 1).Err(); err != nil {
				return s, true, fmt.Errorf("silences: count on %s: %w", s.ID, err)
			}
			return s, true, nil
		}
	}
	return Silence{}, false, nil
}

// read returns every stored silence; values that are not silences (written
// by hand) are skipped.
func (st *Store) read(ctx context.Context) ([]Silence, error) {
	m, err := st.client.HGetAll(ctx, Key).Result()
	if err != nil {
		return nil, fmt.Errorf("silences: read: %w", err)
	}
	out := make([]Silence, 0, len(m))
	for id, raw := range m {
		var s Silence
		if json.Unmarshal([]byte(raw), &s) != nil || s.ID != id {
			continue
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}
