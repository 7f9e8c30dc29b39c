package httpapi

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/host/bus"
	"github.com/hemostat/hemostat/host/gate"
	"github.com/hemostat/hemostat/host/silence"
	"github.com/hemostat/hemostat/host/supervisor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
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
	s.srv = &http.Server{Handler: s.authorize(mux), ReadHeaderTimeout: 5 * time.Second}
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

func (s *Server) authorize(next http.Handler) http.Handler {
	if s.opts.Token == "" {
		return next
	}
	want := []byte("Bearer " + s.opts.Token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			next.ServeHTTP(w, r)
			return
		}
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="hemostat"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// healthzTimeout is the longest /healthz waits for Redis.
const healthzTimeout = 2 * time.Second

// healthz answers within healthzTimeout whatever Redis does: the client's
// socket deadlines do not follow the context, so a hung Redis would hold a
// PING for its read timeout on top. The answer names no address or error
// — the endpoint needs no token — the log has the detail.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), healthzTimeout)
	defer cancel()
	errc := make(chan error, 1) // buffered: a late PING must not block
	go func() { errc <- s.opts.Bus.Ping(ctx) }()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
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
