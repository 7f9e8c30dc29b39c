package redisconn

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/redis/go-redis/v9"
)

// pingTimeout bounds the PING that checks a new connection when the
// caller's context has no earlier deadline.
const pingTimeout = 10 * time.Second

// Open connects to the Redis that cfg describes and checks it answers PING.
// With no addresses it starts an embedded Redis on loopback first. Close
// the returned io.Closer, not the client, when done: it closes the client
// and stops the embedded server, if any.
//
// Errors name the mode and addresses but never the password.
func Open(ctx context.Context, cfg Config, logger hclog.Logger) (redis.UniversalClient, io.Closer, error) {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	if len(cfg.Addresses) == 0 {
		return openEmbedded(ctx, cfg, logger)
	}
	tlsCfg, err := cfg.tlsConfig()
	if err != nil {
		return nil, nil, err
	}
	opts := &redis.UniversalOptions{
		Addrs:      cfg.Addresses,
		MasterName: cfg.SentinelMaster,
		Username:   cfg.Username,
		Password:   cfg.Password,
		DB:         cfg.DB,
		TLSConfig:  tlsCfg,
	}
	var client redis.UniversalClient
	if cfg.Mode() == "cluster" {
		client = newClusterClient(opts.Cluster())
	} else {
		client = redis.NewUniversalClient(opts)
	}
	where := fmt.Sprintf("redis (%s) at %s", cfg.Mode(), strings.Join(cfg.Addresses, ", "))
	if cfg.SentinelMaster != "" {
		where = fmt.Sprintf("redis master %q from sentinels at %s", cfg.SentinelMaster, strings.Join(cfg.Addresses, ", "))
	}
	if err := ping(ctx, client); err != nil {
		client.Close()
		return nil, nil, fmt.Errorf("%s: %w", where, redactError(err, cfg.Password))
	}
	logger.Info("connected to redis", "mode", cfg.Mode(), "addresses", cfg.Addresses, "tls", cfg.TLS.Enabled)
	return client, client, nil
}

// ping checks the connection, bounded by pingTimeout.
func ping(ctx context.Context, client redis.UniversalClient) error {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	return client.Ping(ctx).Err()
}

// redactError guards against a password turning up in an error message,
// whatever the library below chose to quote.
func redactError(err error, password string) error {
	if err == nil || password == "" || !strings.Contains(err.Error(), password) {
		return err
	}
	return fmt.Errorf("%s", strings.ReplaceAll(err.Error(), password, "[redacted]"))
}
