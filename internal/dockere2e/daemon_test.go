package dockere2e

import (
	"crypto/rand"
	"path/filepath"
	"testing"

	"github.com/hemostat/hemostat/internal/daemontest"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/redis/go-redis/v9"
)

// daemon is one hemostatd process with its own redis-server and a watcher
// of every envelope published there.
type daemon struct {
	*daemontest.Daemon
	rdb   *redis.Client
	watch *daemontest.Watcher
}

// scenarioPrefix returns a fresh container-name prefix of letters and
// digits: "hse2e" and eight random characters. It never starts with
// "hemostat", which the default protected globs cover.
func scenarioPrefix() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 8)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "hse2e" + string(b)
}

// startDaemon starts a redis-server and hemostatd configured by s, scoped
// to containers whose names start with prefix, with a watcher subscribed
// before hemostatd publishes anything. Both stop when the test ends.
func startDaemon(t testing.TB, prefix string, s settings) *daemon {
	t.Helper()
	srv := testenv.StartRedis(t)
	s.Redis = srv.Addr()
	s.HTTP = daemontest.FreeAddr(t)
	s.Plugins = filepath.Join(t.TempDir(), "plugins") // empty: the built-ins only
	s.Excludes = scopeExcludes(prefix)
	d := &daemon{rdb: srv.Client(t)}
	d.watch = daemontest.Watch(t, d.rdb)
	d.Daemon = daemontest.Start(t, daemontest.Options{Config: s.render(t), HTTP: s.HTTP})
	return d
}
