package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/host/bus"
	"github.com/hemostat/hemostat/host/feed"
	"github.com/hemostat/hemostat/host/gate"
	"github.com/hemostat/hemostat/host/overview"
	"github.com/hemostat/hemostat/host/silence"
	"github.com/hemostat/hemostat/host/supervisor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
)

// Options configure the server.
type Options struct {
	Address    string
	Token      string
	Logger     hclog.Logger
	Gatherer   prometheus.Gatherer
	Bus        *bus.Bus
	Supervisor *supervisor.Supervisor
	Gate       *gate.Gate
	// Silences, when set, are served under /api/v1/silences.
	Silences *silence.Store
	Version  string

	// Overview, when set, is the container record behind /api/v1/containers,
	// /summary and /remediations.
	Overview *overview.Model
	// Hub, when set, feeds /api/v1/stream.
	Hub *feed.Hub
	// Redis, when set, is read by /api/v1/events: the event logs and, with
	// streams delivery, the streams.
	Redis redis.UniversalClient
	// Summary describes the daemon on /api/v1/summary; DryRun is asked at
	// each request, since a reload changes it.
	Host          string
	RedisAddr     string
	EmbeddedRedis bool
	DryRun        func() bool
	// Pprof serves Go's runtime profiles under /debug/pprof/.
	Pprof bool
}

// Server is the HTTP server.
type Server struct {
	opts Options
	ln   net.Listener
	srv  *http.Server
}

// Listen binds the address. A non-loopback address without a token is
// refused: the API shows container names and plugin state.
func Listen(opts Options) (*Server, error) {
	if opts.Token == "" && !loopback(opts.Address) {
		return nil, fmt.Errorf("http: %s is not a loopback address; set http.token to serve on it", opts.Address)
	}
	ln, err := net.Listen("tcp", opts.Address)
	if err != nil {
		return nil, fmt.Errorf("http: %w", err)
	}
	s := &Server{opts: opts, ln: ln}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(opts.Gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /api/v1/status", s.status)
	s.routeDashboard(mux)
	s.routeSilences(mux)
	s.routeAPI(mux)
	var h http.Handler = limit(mux)
	if opts.Pprof {
		// Profiles outlast the handler timeout.
		outer := http.NewServeMux()
		routePprof(outer)
		outer.Handle("/", h)
		h = outer
	}
	s.srv = newHTTPServer(s.authorize(h))
	return s, nil
}

// Addr is the bound address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve serves until ctx ends.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		err := s.srv.Shutdown(shut)
		if e := <-errc; e != nil && !errors.Is(e, http.ErrServerClosed) && err == nil {
			err = e
		}
		return err
	}
}

// healthzTimeout is the longest /healthz waits for Redis.
const healthzTimeout = 2 * time.Second

// healthz answers within healthzTimeout whatever Redis does: the client's
// socket deadlines do not follow the context, so a hung Redis would hold a
// PING for its read timeout on top. The answer names no address or error
// — the endpoint needs no token — the log has the detail.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if err := s.ping(r.Context()); err != nil {
		s.opts.Logger.Debug("health check: redis unreachable", "error", err)
		http.Error(w, "redis unreachable", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}

// Status is the JSON status document.
type Status struct {
	Version         string                `json:"version"`
	Plugins         []supervisor.Status   `json:"plugins"`
	Containers      []gate.ContainerState `json:"containers"`
	InvalidMessages uint64                `json:"invalid_messages"`
}

func (s *Server) status(w http.ResponseWriter, _ *http.Request) {
	st := Status{Version: s.opts.Version, InvalidMessages: s.opts.Bus.Invalid()}
	if s.opts.Supervisor != nil {
		st.Plugins = s.opts.Supervisor.Status()
	}
	if s.opts.Gate != nil {
		st.Containers = s.opts.Gate.Snapshot()
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(st); err != nil {
		s.opts.Logger.Warn("write status", "error", err)
	}
}

func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
