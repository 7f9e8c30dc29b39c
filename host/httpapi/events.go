package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hemostat/hemostat/host/bus"
	"github.com/hemostat/hemostat/host/feed"
	"github.com/hemostat/hemostat/host/overview"
	"github.com/hemostat/hemostat/host/protocol"
)

// EventList is the body of GET /api/v1/events.
type EventList struct {
	Events []protocol.Envelope `json:"events"`
}

const (
	eventsDefault = 100
	eventsMax     = 1000
)

// events answers from the event logs (the newest 100 of each type) and,
// with streams delivery, the streams, which keep more: newest first,
// filtered by type, container and time.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := limitParam(r, eventsDefault, eventsMax)
	if err == nil {
		var since time.Time
		since, err = sinceParam(r)
		if err == nil {
			var types []string
			types, err = s.eventTypes(r.Context(), q.Get("type"))
			if err == nil {
				writeJSON(w, http.StatusOK, EventList{Events: s.readEvents(r.Context(), types, q.Get("container"), since, limit)})
				return
			}
		}
	}
	writeError(w, http.StatusBadRequest, err)
}

// eventTypes is the type asked for, or every type with an event log
// (external agents' too).
func (s *Server) eventTypes(ctx context.Context, want string) ([]string, error) {
	if want != "" {
		if !feed.ValidType(want) {
			return nil, fmt.Errorf("type: %q is not an event type name", want)
		}
		return []string{want}, nil
	}
	types := slices.Clone(protocol.Types)
	if s.opts.Redis != nil {
		for _, k := range overview.ScanKeys(ctx, s.opts.Redis, protocol.EventLogKey("*")) {
			types = append(types, strings.TrimPrefix(k, protocol.EventLogKey("")))
		}
	}
	slices.Sort(types)
	return slices.Compact(types), nil
}

func (s *Server) readEvents(ctx context.Context, types []string, container string, since time.Time, limit int) []protocol.Envelope {
	out := []protocol.Envelope{}
	if s.opts.Redis == nil {
		return out
	}
	seen := map[string]bool{}
	keep := func(env protocol.Envelope) {
		key := env.Type + "\x00" + env.Timestamp + "\x00" + env.Agent + "\x00" + string(env.Data)
		if seen[key] {
			return
		}
		seen[key] = true
		if container != "" && dataContainer(env) != container {
			return
		}
		if !since.IsZero() {
			if t, err := env.Time(); err != nil || t.Before(since) {
				return
			}
		}
		out = append(out, env)
	}
	streams := s.opts.Bus != nil && s.opts.Bus.Streaming()
	for _, t := range types {
		for _, env := range overview.ReadLog(ctx, s.opts.Redis, t) {
			keep(env)
		}
		if streams {
			msgs, err := s.opts.Redis.XRevRangeN(ctx, bus.StreamKey(t), "+", "-", int64(limit)).Result()
			if err != nil {
				continue
			}
			for _, m := range msgs {
				if raw, ok := m.Values[bus.StreamField].(string); ok {
					if env, err := protocol.DecodeEnvelope([]byte(raw), t); err == nil {
						keep(env)
					}
				}
			}
		}
	}
	slices.SortStableFunc(out, func(a, b protocol.Envelope) int { return strings.Compare(b.Timestamp, a.Timestamp) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// dataContainer is the container an envelope's data names, if any.
func dataContainer(env protocol.Envelope) string {
	var d struct {
		Container string `json:"container"`
	}
	_ = json.Unmarshal(env.Data, &d)
	return d.Container
}
