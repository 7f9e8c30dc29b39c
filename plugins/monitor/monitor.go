package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"sync"

	"github.com/docker/docker/client"
	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/sdk"
)

// Monitor is the Docker monitor plugin. The zero value is not usable; call
// New.
type Monitor struct {
	log hclog.Logger

	mu         sync.Mutex
	configured bool
	cfg        settings
	watches    map[*watcher]context.CancelFunc
	wg         sync.WaitGroup

	// onSynced, when set (by tests), is called after every resync.
	onSynced func()
}

var (
	_ sdk.Monitor    = (*Monitor)(nil)
	_ sdk.Shutdowner = (*Monitor)(nil)
)

// errNotConfigured is returned by Watch before a successful Configure.
var errNotConfigured = errors.New("monitor: Watch called before Configure")

// New returns an unconfigured monitor plugin.
func New() *Monitor {
	return &Monitor{
		log:     sdk.Logger("monitor"),
		watches: map[*watcher]context.CancelFunc{},
	}
}

// SetLogger replaces the plugin's logger (stderr JSON by default).
func (m *Monitor) SetLogger(l hclog.Logger) { m.log = l }

// Configure validates the plugin's settings, including the Docker
// connection settings from the environment. It does not contact the
// engine: an engine that is down is a condition Watch waits out, not a
// configuration error. A running Watch keeps the settings it started with.
func (m *Monitor) Configure(_ context.Context, raw json.RawMessage, _ sdk.Host) error {
	var c Config
	if err := sdk.DecodeConfig(raw, &c); err != nil {
		return err
	}
	cfg, err := parseConfig(c)
	if err != nil {
		return err
	}
	cli, err := newDockerClient(cfg)
	if err != nil {
		return sdk.ConfigError{Key: "docker_host", Message: err.Error()}
	}
	cli.Close()
	m.mu.Lock()
	m.cfg, m.configured = cfg, true
	m.mu.Unlock()
	return nil
}

// newDockerClient returns a client for the configured engine: docker_host,
// else DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, else the local
// socket.
func newDockerClient(cfg settings) (*client.Client, error) {
	opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if cfg.dockerHost != "" {
		opts = append(opts, client.WithHost(cfg.dockerHost))
	}
	return client.NewClientWithOpts(opts...)
}

// Watch reports lifecycle events as they happen and resource samples on
// the configured interval until ctx is done. It returns nil when ctx ends
// and an error only when emit fails (the host's stream is gone); an engine
// that goes away is waited for and reconnected to.
func (m *Monitor) Watch(ctx context.Context, emit func(sdk.Sample) error) error {
	m.mu.Lock()
	if !m.configured {
		m.mu.Unlock()
		return errNotConfigured
	}
	// Each Watch has a client of its own: the client negotiates its API
	// version on first use, which must not race with another Watch.
	cli, err := newDockerClient(m.cfg)
	if err != nil {
		m.mu.Unlock()
		return err
	}
	defer cli.Close()
	ctx, cancel := context.WithCancel(ctx)
	w := newWatcher(cli, m.cfg, m.log, detectSelf("/proc", os.Getenv("HOSTNAME")), emit)
	w.onSynced = m.onSynced
	m.watches[w] = cancel
	m.wg.Add(1)
	m.mu.Unlock()

	defer func() {
		m.mu.Lock()
		delete(m.watches, w)
		m.mu.Unlock()
		cancel()
		m.wg.Done()
	}()
	return w.run(ctx)
}

// Shutdown stops every running Watch and waits for them to return. A
// later Watch needs a new Configure.
func (m *Monitor) Shutdown(ctx context.Context) error {
	m.mu.Lock()
	for _, cancel := range m.watches {
		cancel()
	}
	m.configured = false
	m.mu.Unlock()

	done := make(chan struct{})
	go func() {
		m.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
