package inspect

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/protocol"
)

// Heartbeat is what a running hemostatd writes, every HeartbeatInterval,
// to the extension key hemostat:heartbeat:<id>, expiring after
// HeartbeatTTL: a daemon whose key is gone has stopped or lost Redis.
type Heartbeat struct {
	// ID is host:pid, unique among the daemons sharing a Redis.
	ID      string    `json:"id"`
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	Version string    `json:"version"`
	Started time.Time `json:"started"`
	Updated time.Time `json:"updated"`
	// HTTP is the API's listen address, "" when the server is off.
	HTTP string `json:"http,omitempty"`
	// EmbeddedRedis is the embedded Redis's address, "" with a configured
	// server.
	EmbeddedRedis string `json:"embedded_redis,omitempty"`
	DryRun        bool   `json:"dry_run,omitempty"`
	// Active is true while the daemon acts on its engine: it holds the
	// engine's lease (host/lease) or runs without one. A standby is false.
	Active bool `json:"active"`
	// LeaseGen is the lease generation held, 0 without one.
	LeaseGen int64        `json:"lease_gen,omitempty"`
	Plugins  []PluginBeat `json:"plugins"`
}

// PluginBeat is one plugin as its daemon last saw it.
type PluginBeat struct {
	Role     string `json:"role"`
	Name     string `json:"name"`
	State    string `json:"state"`
	Restarts int    `json:"restarts"`
}

const (
	// HeartbeatInterval is how often a daemon rewrites its heartbeat.
	HeartbeatInterval = 10 * time.Second
	// HeartbeatTTL outlives two missed beats.
	HeartbeatTTL = 3 * HeartbeatInterval
)

// HeartbeatKey is the key of the daemon id's heartbeat.
func HeartbeatKey(id string) string { return protocol.Prefix + "heartbeat:" + id }

// DaemonID is this process's heartbeat id, host:pid.
func DaemonID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	return fmt.Sprintf("%s:%d", host, os.Getpid())
}

// WriteHeartbeat writes hb with HeartbeatTTL.
func WriteHeartbeat(ctx context.Context, c redis.UniversalClient, hb Heartbeat) error {
	raw, err := json.Marshal(hb)
	if err != nil {
		return err
	}
	return c.Set(ctx, HeartbeatKey(hb.ID), raw, HeartbeatTTL).Err()
}

// RemoveHeartbeat deletes the daemon id's heartbeat, on an orderly stop.
func RemoveHeartbeat(ctx context.Context, c redis.UniversalClient, id string) error {
	return c.Del(ctx, HeartbeatKey(id)).Err()
}

// Heartbeats reads every live heartbeat, sorted by id.
func Heartbeats(ctx context.Context, c redis.UniversalClient) ([]Heartbeat, error) {
	out, err := readHeartbeats[Heartbeat](ctx, c)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, err
}

// readHeartbeats decodes every live heartbeat key into a T: Heartbeat, or a
// view of it that tells fields an older daemon did not write.
func readHeartbeats[T any](ctx context.Context, c redis.UniversalClient) ([]T, error) {
	keys, err := scan(ctx, c, HeartbeatKey("*"))
	if err != nil {
		return nil, err
	}
	var out []T
	for _, k := range keys {
		raw, err := c.Get(ctx, k).Bytes()
		if err == redis.Nil {
			continue // expired between SCAN and GET
		}
		if err != nil {
			return nil, fmt.Errorf("get %s: %w", k, err)
		}
		var hb T
		if json.Unmarshal(raw, &hb) != nil {
			continue // another writer's key; not ours to judge
		}
		out = append(out, hb)
	}
	return out, nil
}

// scan lists the keys matching pattern on every node (a cluster's keys are
// spread over its masters).
func scan(ctx context.Context, c redis.UniversalClient, pattern string) ([]string, error) {
	var mu sync.Mutex
	var keys []string
	each := func(ctx context.Context, n redis.Cmdable) error {
		it := n.Scan(ctx, 0, pattern, 500).Iterator()
		for it.Next(ctx) {
			mu.Lock()
			keys = append(keys, it.Val())
			mu.Unlock()
		}
		return it.Err()
	}
	var err error
	if cc, ok := c.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error { return each(ctx, n) })
	} else {
		err = each(ctx, c)
	}
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", pattern, err)
	}
	sort.Strings(keys)
	return keys, nil
}
