package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hemostat/hemostat/host/gate"
	"github.com/hemostat/hemostat/host/overview"
	"github.com/hemostat/hemostat/host/silence"
	"github.com/hemostat/hemostat/host/supervisor"
)

// routeAPI adds the dashboard's JSON API, the readiness probe and the
// login form's target.
func (s *Server) routeAPI(mux *http.ServeMux) {
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("GET /api/v1/summary", s.summary)
	mux.HandleFunc("GET /api/v1/containers", s.containers)
	mux.HandleFunc("GET /api/v1/remediations", s.remediations)
	mux.HandleFunc("GET /api/v1/plugins", s.plugins)
	mux.HandleFunc("GET /api/v1/events", s.events)
	mux.HandleFunc("GET /api/v1/hosts", s.hosts)
	mux.HandleFunc("GET "+streamPath, s.stream)
}

// Summary is the body of GET /api/v1/summary.
type Summary struct {
	Version       string          `json:"version"`
	Host          string          `json:"host"`
	DryRun        bool            `json:"dry_run"`
	RedisAddr     string          `json:"redis_addr"`
	EmbeddedRedis bool            `json:"embedded_redis"`
	GeneratedAt   time.Time       `json:"generated_at"`
	Totals        overview.Totals `json:"totals"`
}

func (s *Server) summary(w http.ResponseWriter, r *http.Request) {
	sum := Summary{
		Version: s.opts.Version, Host: s.opts.Host, RedisAddr: s.opts.RedisAddr,
		EmbeddedRedis: s.opts.EmbeddedRedis, GeneratedAt: time.Now().UTC(),
	}
	if s.opts.DryRun != nil {
		sum.DryRun = s.opts.DryRun()
	}
	if s.opts.Overview != nil {
		sum.Totals = s.opts.Overview.Totals()
		sum.Totals.Containers = len(s.containerList(r))
	}
	writeJSON(w, http.StatusOK, sum)
}

// ContainerList is the body of GET /api/v1/containers.
type ContainerList struct {
	GeneratedAt time.Time            `json:"generated_at"`
	Containers  []overview.Container `json:"containers"`
}

func (s *Server) containers(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, ContainerList{GeneratedAt: time.Now().UTC(), Containers: s.containerList(r)})
}

func (s *Server) containerList(r *http.Request) []overview.Container {
	if s.opts.Overview == nil {
		return []overview.Container{}
	}
	var gates []gate.ContainerState
	if s.opts.Gate != nil {
		gates = s.opts.Gate.Snapshot()
	}
	var silences []silence.Silence
	if s.opts.Silences != nil {
		// Unreadable silences show the containers unsilenced rather
		// than no page at all.
		silences, _ = s.opts.Silences.List(r.Context())
	}
	return s.opts.Overview.Containers(gates, silences)
}

// RemediationList is the body of GET /api/v1/remediations.
type RemediationList struct {
	Remediations []overview.Remediation `json:"remediations"`
}

func (s *Server) remediations(w http.ResponseWriter, r *http.Request) {
	limit, err := limitParam(r, 100, overview.RemediationsMax)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	out := RemediationList{Remediations: []overview.Remediation{}}
	if s.opts.Overview != nil {
		out.Remediations = s.opts.Overview.Remediations(r.URL.Query().Get("container"), limit)
	}
	writeJSON(w, http.StatusOK, out)
}

// PluginList is the body of GET /api/v1/plugins.
type PluginList struct {
	Plugins []supervisor.Status `json:"plugins"`
}

func (s *Server) plugins(w http.ResponseWriter, _ *http.Request) {
	out := PluginList{Plugins: []supervisor.Status{}}
	if s.opts.Supervisor != nil {
		out.Plugins = append(out.Plugins, s.opts.Supervisor.Status()...)
	}
	writeJSON(w, http.StatusOK, out)
}

// limitParam reads ?limit=, def when absent, refused above max.
func limitParam(r *http.Request, def, max int) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, fmt.Errorf("limit: %q is not a number from 1 to %d", v, max)
	}
	return n, nil
}

// sinceParam reads ?since= as RFC 3339 or Unix seconds; zero when absent.
func sinceParam(r *http.Request) (time.Time, error) {
	v := strings.TrimSpace(r.URL.Query().Get("since"))
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return time.Unix(0, int64(f*1e9)), nil
	}
	return time.Time{}, fmt.Errorf("since: %q is neither RFC 3339 nor Unix seconds", v)
}
