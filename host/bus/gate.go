package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/protocol"
)

// SaveGate writes a container's safety-gate state (any JSON value) to
// protocol.GateKey, expiring after ttl; a ttl under a second is a second.
func (b *Bus) SaveGate(ctx context.Context, container string, v any, ttl time.Duration) error {
	if err := checkName("container name", container); err != nil {
		return err
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("bus: encode gate state of %s: %w", container, err)
	}
	key := protocol.GateKey(container)
	if err := b.client.Set(ctx, key, raw, max(ttl, time.Second)).Err(); err != nil {
		return fmt.Errorf("bus: set %s: %w", key, err)
	}
	return nil
}

// LoadGate reads a container's safety-gate state into v; false when there
// is none.
func (b *Bus) LoadGate(ctx context.Context, container string, v any) (bool, error) {
	return b.getJSON(ctx, protocol.GateKey(container), container, v)
}

// ForgetGate deletes a container's safety-gate state: the container was
// removed, and the one that replaces it starts with a clean slate.
func (b *Bus) ForgetGate(ctx context.Context, container string) error {
	if err := checkName("container name", container); err != nil {
		return err
	}
	if err := b.client.Del(ctx, protocol.GateKey(container)).Err(); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("bus: delete %s: %w", protocol.GateKey(container), err)
	}
	return nil
}

// GateContainers lists the containers with a safety-gate state in Redis,
// from every primary of a Cluster.
func (b *Bus) GateContainers(ctx context.Context) ([]string, error) {
	c, ok := b.client.(*redis.ClusterClient)
	if !ok {
		return gateNames(ctx, b.client)
	}
	var mu sync.Mutex
	var out []string
	err := c.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		part, err := gateNames(ctx, node)
		mu.Lock()
		out = append(out, part...)
		mu.Unlock()
		return err
	})
	return out, err
}

// gateNames scans one server for gate keys and returns their containers.
func gateNames(ctx context.Context, c redis.Cmdable) ([]string, error) {
	prefix, found := strings.CutSuffix(protocol.GateKey(""), "}")
	if !found {
		return nil, errors.New("bus: the gate key does not end in its hash tag")
	}
	var out []string
	it := c.Scan(ctx, 0, protocol.GateKey("*"), 200).Iterator()
	for it.Next(ctx) {
		if name, ok := strings.CutPrefix(it.Val(), prefix); ok {
			if name, ok = strings.CutSuffix(name, "}"); ok && name != "" {
				out = append(out, name)
			}
		}
	}
	if err := it.Err(); err != nil {
		return out, fmt.Errorf("bus: scan %s: %w", protocol.GateKey("*"), err)
	}
	return out, nil
}
