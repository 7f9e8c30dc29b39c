package testenv

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// clusterNodeTimeout is the cluster-node-timeout each node runs with: how
// long a master may be silent before its replica takes over. Short, so a
// failover test does not wait the default 15 s.
const clusterNodeTimeout = 2 * time.Second

// Cluster is a real Redis Cluster of redis-server processes on loopback:
// three masters with one replica each, formed by redis-cli --cluster
// create, as an operator would.
type Cluster struct {
	Nodes []*RedisServer
}

// StartCluster starts six cluster-enabled redis-servers, joins them into a
// cluster of three masters and three replicas, waits until every node
// reports cluster_state:ok, and stops them when the test ends. extraArgs
// are passed on to every redis-server.
func StartCluster(t testing.TB, extraArgs ...string) *Cluster {
	t.Helper()
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Fatalf("testenv: redis-cli is not installed (%v); the cluster tests need it — install the redis-tools package", err)
	}
	c := &Cluster{}
	for i := 0; i < 6; i++ {
		// The cluster bus listens on its own port; an explicit one keeps
		// it clear of port+10000, which may not exist or be taken.
		busPort, err := freePort()
		if err != nil {
			t.Fatalf("testenv: find a free port for the cluster bus: %v", err)
		}
		args := append([]string{
			"--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", strconv.Itoa(int(clusterNodeTimeout / time.Millisecond)),
			"--cluster-port", strconv.Itoa(busPort),
		}, extraArgs...)
		c.Nodes = append(c.Nodes, StartRedis(t, args...))
	}
	args := []string{"--cluster", "create"}
	args = append(args, c.Addrs()...)
	args = append(args, "--cluster-replicas", "1", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("testenv: redis-cli --cluster create: %v\n%s", err, out)
	}
	c.WaitHealthy(t)
	// A replica that never finished its first sync refuses to take over
	// (its data is too old): wait for all three to be in sync.
	deadline := time.Now().Add(30 * time.Second)
	for c.replicasInSync() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("testenv: the cluster's replicas did not sync within 30 s (%d of 3)", c.replicasInSync())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return c
}

// replicasInSync counts the running replicas whose link to their master
// is up.
func (c *Cluster) replicasInSync() int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n := 0
	for _, node := range c.Nodes {
		if !node.running() {
			continue
		}
		rdb := redis.NewClient(&redis.Options{Addr: node.Addr()})
		info, err := rdb.Info(ctx, "replication").Result()
		rdb.Close()
		if err == nil && strings.Contains(info, "role:slave") && strings.Contains(info, "master_link_status:up") {
			n++
		}
	}
	return n
}

// Addrs lists every node's host:port, the seed addresses a client needs.
func (c *Cluster) Addrs() []string {
	addrs := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		addrs[i] = n.Addr()
	}
	return addrs
}

// Masters lists the addresses of the running nodes that are masters now.
func (c *Cluster) Masters(t testing.TB) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var out []string
	for _, n := range c.Nodes {
		if !n.running() {
			continue
		}
		rdb := redis.NewClient(&redis.Options{Addr: n.Addr()})
		info, err := rdb.Info(ctx, "replication").Result()
		rdb.Close()
		if err != nil {
			t.Fatalf("testenv: INFO replication of %s: %v", n.Addr(), err)
		}
		if strings.Contains(info, "role:master") {
			out = append(out, n.Addr())
		}
	}
	return out
}

// Client returns a go-redis Cluster client, closed when the test ends.
func (c *Cluster) Client(t testing.TB) *redis.ClusterClient {
	t.Helper()
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
	t.Cleanup(func() { cc.Close() })
	return cc
}

// MasterOf returns the node that serves key now, as the running nodes'
// CLUSTER SLOTS say.
func (c *Cluster) MasterOf(t testing.TB, key string) *RedisServer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, n := range c.Nodes {
		if !n.running() {
			continue
		}
		rdb := redis.NewClient(&redis.Options{Addr: n.Addr()})
		addr, err := slotMaster(ctx, rdb, key)
		rdb.Close()
		if err != nil {
			continue
		}
		for _, m := range c.Nodes {
			if m.Addr() == addr {
				return m
			}
		}
	}
	t.Fatalf("testenv: no running node names the master of %q", key)
	return nil
}

// slotMaster asks one node which address is the master of key's slot.
func slotMaster(ctx context.Context, rdb *redis.Client, key string) (string, error) {
	slot, err := rdb.ClusterKeySlot(ctx, key).Result()
	if err != nil {
		return "", err
	}
	ranges, err := rdb.ClusterSlots(ctx).Result()
	if err != nil {
		return "", err
	}
	for _, r := range ranges {
		if int64(r.Start) <= slot && slot <= int64(r.End) && len(r.Nodes) > 0 {
			return r.Nodes[0].Addr, nil
		}
	}
	return "", fmt.Errorf("slot %d of %q is not served", slot, key)
}

// KillMaster kills the master serving key with SIGKILL and waits until its
// replica has taken over: another node serves the key's slot and the
// cluster is healthy again. It returns how long that took.
func (c *Cluster) KillMaster(t testing.TB, key string) time.Duration {
	t.Helper()
	victim := c.MasterOf(t, key)
	start := time.Now()
	victim.Kill(t)
	deadline := start.Add(30 * time.Second)
	for {
		if c.unhealthy() == "" && c.MasterOf(t, key) != victim {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			var logs strings.Builder
			for _, n := range c.Nodes {
				if n.running() {
					logs.WriteString(n.logTail())
				}
			}
			t.Fatalf("testenv: no replica took over from %s within 30 s: %s%s", victim.Addr(), c.unhealthy(), logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WaitHealthy waits until every running node reports cluster_state:ok and
// every slot is served, as after a create or a failover.
func (c *Cluster) WaitHealthy(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		if last = c.unhealthy(); last == "" {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("testenv: the cluster did not become healthy within 30 s: %s", last)
}

// unhealthy names the first running node that does not report a healthy
// cluster, or returns "".
func (c *Cluster) unhealthy() string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, n := range c.Nodes {
		if !n.running() {
			continue
		}
		rdb := redis.NewClient(&redis.Options{Addr: n.Addr()})
		info, err := rdb.ClusterInfo(ctx).Result()
		rdb.Close()
		if err != nil {
			return fmt.Sprintf("%s: %v", n.Addr(), err)
		}
		if !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_slots_ok:16384") {
			return fmt.Sprintf("%s: %s", n.Addr(), firstLines(info, 3))
		}
	}
	return ""
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, " ")
}
