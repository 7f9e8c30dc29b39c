package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/hemostat/hemostat/host/supervisor"
)

// readyz says whether hemostatd can do its work: Redis answers and every
// plugin runs. Like /healthz it needs no token, so it names no address
// and no error, only what is not ready: "redis" and each plugin by role,
// name and state.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	var missing []string
	if err := s.ping(r.Context()); err != nil {
		s.opts.Logger.Debug("readiness: redis unreachable", "error", err)
		missing = append(missing, "redis: unreachable")
	}
	if s.opts.Supervisor != nil {
		for _, p := range s.opts.Supervisor.Status() {
			if p.State != supervisor.StateRunning {
				missing = append(missing, fmt.Sprintf("plugin %s/%s: %s", p.Role, p.Name, p.State))
			}
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if len(missing) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "not ready\n%s\n", strings.Join(missing, "\n"))
		return
	}
	fmt.Fprintln(w, "ready")
}

// ping PINGs Redis within healthzTimeout whatever Redis does (see healthz).
func (s *Server) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, healthzTimeout)
	defer cancel()
	errc := make(chan error, 1) // buffered: a late PING must not block
	go func() { errc <- s.opts.Bus.Ping(ctx) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
