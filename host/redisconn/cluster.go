package redisconn

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// clusterStateMaxAge is how old a Cluster client's slot map may grow
// before a command reloads it. go-redis's default is a minute: after a
// master fails over, every command for its slots keeps dialling the dead
// node until then, and a lease kept there lapses. CLUSTER SLOTS costs one
// small round trip, at most this often, and only while commands run.
const clusterStateMaxAge = 5 * time.Second

// clusterDialTimeout bounds a dial to one node. A dead node on another
// machine may not refuse the connection, and go-redis's 5 s default, paid
// on every retry, would outlast the failover it is waiting for.
const clusterDialTimeout = 2 * time.Second

// newClusterClient is go-redis's Cluster client with a slot map that
// follows a failover within seconds: it is reloaded when older than
// clusterStateMaxAge, and at once when a command fails without a reply
// from Redis (a node refused, reset or timed out), which is what a killed
// master looks like from here.
func newClusterClient(o *redis.ClusterOptions) *redis.ClusterClient {
	o.ClusterStateReloadInterval = clusterStateMaxAge
	o.DialTimeout = clusterDialTimeout
	c := redis.NewClusterClient(o)
	c.AddHook(reloadOnNodeFailure{c})
	return c
}

// reloadOnNodeFailure is a go-redis hook that asks the Cluster client to
// reload its slot map after a command or pipeline failed for want of a
// node. go-redis coalesces the reloads, so a burst of failures costs one.
type reloadOnNodeFailure struct{ c *redis.ClusterClient }

func (h reloadOnNodeFailure) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h reloadOnNodeFailure) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		h.check(ctx, err)
		return err
	}
}

func (h reloadOnNodeFailure) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		h.check(ctx, err)
		return err
	}
}

func (h reloadOnNodeFailure) check(ctx context.Context, err error) {
	if nodeFailure(err) {
		h.c.ReloadState(ctx)
	}
}

// nodeFailure says whether err means no node answered (refused, reset,
// timed out) rather than a node answering with an error (a reply,
// redis.Nil included), the caller giving up, or the client being closed.
func nodeFailure(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, redis.ErrClosed) {
		return false
	}
	var reply redis.Error
	return !errors.As(err, &reply)
}
