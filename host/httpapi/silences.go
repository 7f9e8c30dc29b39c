package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hemostat/hemostat/host/silence"
)

// maxSilenceBody bounds a silence request; one is a few hundred bytes.
const maxSilenceBody = 16 << 10

// SilenceRequest is the body of POST /api/v1/silences: an end time, or a
// duration from now.
type SilenceRequest struct {
	Container string    `json:"container"`
	Event     string    `json:"event,omitempty"`
	EndsAt    time.Time `json:"ends_at,omitzero"`
	// Duration is a Go duration such as "2h"; used when EndsAt is unset.
	Duration  string `json:"duration,omitempty"`
	Comment   string `json:"comment,omitempty"`
	CreatedBy string `json:"created_by,omitempty"`
}

// SilenceList is the body of GET /api/v1/silences.
type SilenceList struct {
	Silences []silence.Silence `json:"silences"`
}

func (s *Server) routeSilences(mux *http.ServeMux) {
	if s.opts.Silences == nil {
		return
	}
	mux.HandleFunc("GET /api/v1/silences", s.listSilences)
	mux.HandleFunc("POST /api/v1/silences", s.addSilence)
	mux.HandleFunc("POST /api/v1/silences/{id}/expire", s.expireSilence)
}

func (s *Server) listSilences(w http.ResponseWriter, r *http.Request) {
	list, err := s.opts.Silences.List(r.Context())
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, err)
		return
	}
	if list == nil {
		list = []silence.Silence{}
	}
	writeJSON(w, http.StatusOK, SilenceList{Silences: list})
}

func (s *Server) addSilence(w http.ResponseWriter, r *http.Request) {
	var req SilenceRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxSilenceBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("invalid silence request: %w", err))
		return
	}
	ends := req.EndsAt
	if ends.IsZero() && req.Duration != "" {
		d, err := time.ParseDuration(req.Duration)
		if err != nil || d <= 0 {
			writeError(w, http.StatusBadRequest, fmt.Errorf("invalid silence: duration: %q is not a positive duration such as \"2h\"", req.Duration))
			return
		}
		ends = time.Now().Add(d)
	}
	by := strings.TrimSpace(req.CreatedBy)
	if by == "" {
		by = "api"
	}
	sil, err := s.opts.Silences.Add(r.Context(), silence.Silence{
		Container: req.Container, Event: req.Event, Ends: ends, Comment: req.Comment, CreatedBy: by,
	})
	if err != nil {
		status := http.StatusServiceUnavailable
		if strings.HasPrefix(err.Error(), "invalid silence") {
			status = http.StatusBadRequest
		}
		writeError(w, status, err)
		return
	}
	s.opts.Logger.Info("silence added", "id", sil.ID, "container", sil.Container, "event", sil.Event, "until", sil.Ends, "by", sil.CreatedBy)
	writeJSON(w, http.StatusCreated, sil)
}

func (s *Server) expireSilence(w http.ResponseWriter, r *http.Request) {
	sil, err := s.opts.Silences.Expire(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, silence.ErrNotFound):
		writeError(w, http.StatusNotFound, err)
		return
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, err)
		return
	}
	s.opts.Logger.Info("silence expired", "id", sil.ID)
	writeJSON(w, http.StatusOK, sil)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}
