package httpapi

import (
	"net/http"
	"time"

	"github.com/hemostat/hemostat/host/inspect"
)

// HostList is the body of GET /api/v1/hosts: every Docker host whose
// daemons share this Redis (see inspect.Fleet).
type HostList struct {
	GeneratedAt time.Time `json:"generated_at"`
	inspect.Fleet
}

// hosts reads the fleet from Redis at each request: heartbeats and leases
// are other daemons' keys, which no local record follows.
func (s *Server) hosts(w http.ResponseWriter, r *http.Request) {
	list := HostList{GeneratedAt: time.Now().UTC(), Fleet: inspect.Fleet{Hosts: []inspect.Host{}}}
	if s.opts.Redis != nil {
		f, err := inspect.ReadFleet(r.Context(), s.opts.Redis)
		if err != nil {
			s.opts.Logger.Warn("read the fleet", "error", err)
			http.Error(w, "redis unreachable", http.StatusServiceUnavailable)
			return
		}
		list.Fleet = f
	}
	writeJSON(w, http.StatusOK, list)
}
