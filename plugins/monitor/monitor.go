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

	mu      sync.Mutex
	cfg     settings
	cli     *client.Client
	watches map[*watcher]context.CancelFunc
	wg      sync.WaitGroup
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

// Configure validates the plugin's settings and prepares the Docker
// client. It does not contact the engine: an engine that is down is a
// condition Watch waits out, not a configuration error.
func (m *Monitor) Configure(_ context.Context, raw json.RawMessage, _ sdk.Host) error {
	var c Config
	if err := sdk.DecodeConfig(raw, &c); err != nil {
		return err
	}
	cfg, err := parseConfig(c)
	if err != nil {
		return err
	}
	opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if cfg.dockerHost != "" {
		opts = append(opts, client.WithHost(cfg.dockerHost))
	}
	cli, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return sdk.ConfigError{Key: "docker_host", Message: err.Error()}
	}
	m.mu.Lock()
	old := m.cli
	m.cfg, m.cli = cfg, cli
	m.mu.Unlock()
	if old != nil {
		// Running watches keep the old client until they end; closing it
		// only drops idle connections.
		old.Close()
	}
	return nil
}

// Watch reports lifecycle events as they happen and resource samples on
// the configured interval until ctx is done. It returns nil when ctx ends
// and an error only when emit fails (the host's stream is gone); an engine
// that goes away is waited for and reconnected to.
func (m *Monitor) Watch(ctx context.Context, emit func(sdk.Sample) error) error {
	m.mu.Lock()
	if m.cli == nil {
		m.mu.Unlock()
		return errNotConfigured
	}
	ctx, cancel := context.WithCancel(ctx)
	w := newWatcher(m.cli, m.cfg, m.log, detectSelf("/proc", os.Getenv("HOSTNAME")), emit)
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

// Shutdown stops every running Watch, waits for them to return and closes
// the Docker client.
func (m *Monitor) Shutdown(ctx context.Context) error {
	m.mu.Lock()
	for _, cancel := range m.watches {
		cancel()
	}
	cli := m.cli
	m.cli = nil
	m.mu.Unlock()

	done := make(chan struct{})
	go func() {
		m.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if cli != nil {
		return cli.Close()
	}
	return nil
}
