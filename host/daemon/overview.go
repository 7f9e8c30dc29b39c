package daemon

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// serveOverview loads the overview from Redis and keeps its stats fresh;
// it runs only with the HTTP server, the overview's one reader.
func (d *Daemon) serveOverview(client redis.UniversalClient) func(context.Context) error {
	return func(ctx context.Context) error { return d.overview.Run(ctx, client, d.bus) }
}
