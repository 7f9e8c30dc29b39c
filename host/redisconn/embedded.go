package redisconn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hashicorp/go-hclog"
	"github.com/redis/go-redis/v9"
)

// clockInterval is how often the embedded server's clock is advanced.
// miniredis expires keys only when told time has passed, so the TTLs of
// the protocol (stats 300 s, logs 3600 s) need this to mean anything.
const clockInterval = time.Second

// openEmbedded starts an in-process Redis on a random loopback port and
// connects to it.
func openEmbedded(ctx context.Context, cfg Config, logger hclog.Logger) (redis.UniversalClient, io.Closer, error) {
	srv := miniredis.NewMiniRedis()
	if cfg.Password != "" {
		user := cfg.Username
		if user == "" {
			user = "default"
		}
		srv.RequireUserAuth(user, cfg.Password)
	}
	if err := srv.StartAddr("127.0.0.1:0"); err != nil {
		return nil, nil, fmt.Errorf("start embedded redis: %w", err)
	}
	client := redis.NewClient(&redis.Options{
		Addr:     srv.Addr(),
		Username: cfg.Username,
		Password: cfg.Password,
		DB:       cfg.DB,
	})
	if err := ping(ctx, client); err != nil {
		client.Close()
		srv.Close()
		return nil, nil, fmt.Errorf("embedded redis at %s: %w", srv.Addr(), redactError(err, cfg.Password))
	}
	e := &embedded{srv: srv, client: client, stop: make(chan struct{}), done: make(chan struct{})}
	go e.runClock()
	logger.Info("started embedded redis; data lives in memory only", "address", srv.Addr())
	return client, e, nil
}

// embedded owns the in-process server, its clock and the client to it.
type embedded struct {
	srv    *miniredis.Miniredis
	client *redis.Client

	once sync.Once
	stop chan struct{}
	done chan struct{}
}

// runClock advances the server's clock in step with the wall clock until
// Close.
func (e *embedded) runClock() {
	defer close(e.done)
	t := time.NewTicker(clockInterval)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-e.stop:
			return
		case now := <-t.C:
			e.srv.FastForward(now.Sub(last))
			last = now
		}
	}
}

// Close closes the client and stops the server.
func (e *embedded) Close() error {
	var err error
	e.once.Do(func() {
		close(e.stop)
		<-e.done
		err = e.client.Close()
		e.srv.Close()
	})
	if errors.Is(err, redis.ErrClosed) {
		return nil
	}
	return err
}

// EmbeddedAddress is the address of the embedded Redis that Open started,
// given the closer Open returned; false when Open connected to a
// configured server.
func EmbeddedAddress(c io.Closer) (string, bool) {
	e, ok := c.(*embedded)
	if !ok {
		return "", false
	}
	return e.srv.Addr(), true
}
