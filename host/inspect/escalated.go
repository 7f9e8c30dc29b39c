package inspect

import (
	"context"
	"encoding/json"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/protocol"
)

// Escalated is a container's escalation that no action has followed: it
// waits for a person, and hemostatd will not act on it again by itself.
type Escalated struct {
	At     time.Time `json:"at"`
	Source string    `json:"source"`
	Reason string    `json:"reason"`
}

// escalationSettle is how long a container must be seen running, not
// unhealthy and without a new alert after its escalation before it no
// longer waits for a person: the dashboard's settle time.
const escalationSettle = time.Minute

// markEscalated gives each container its newest escalation from the
// escalation event log (the protocol's: an hour, 100 envelopes) when no
// remediation came after it and the container has not recovered since —
// the containers the dashboard pins.
func markEscalated(ctx context.Context, c redis.UniversalClient, cs []Container, now time.Time) error {
	escalations, err := Recent(ctx, c, Filter{Type: protocol.TypeEscalation}, 0)
	if err != nil {
		return err
	}
	alerts, err := Recent(ctx, c, Filter{Type: protocol.TypeHealthAlert}, 0)
	if err != nil {
		return err
	}
	newest := newestByContainer(escalations)
	lastAlert := newestByContainer(alerts)
	for i := range cs {
		ct := &cs[i]
		e, ok := newest[ct.Name]
		if !ok {
			continue
		}
		at, err := e.Time()
		if err != nil {
			continue
		}
		if ct.Last != nil && !ct.Last.Time.Before(at) {
			continue // acted on since
		}
		alertAt, _ := lastAlert[ct.Name].Time()
		if ct.Stats.Status == "running" && ct.Stats.Health != "unhealthy" && !alertAt.After(at) && now.Sub(at) >= escalationSettle {
			continue // recovered: a person saw to it
		}
		var d protocol.Escalation
		_ = json.Unmarshal(e.Data, &d)
		ct.Escalation = &Escalated{At: at, Source: d.Source, Reason: d.Reason}
	}
	return nil
}

// newestByContainer keeps each container's newest event of a list that
// is oldest first.
func newestByContainer(list []Event) map[string]Event {
	out := make(map[string]Event, len(list))
	for _, e := range list {
		out[e.Container] = e
	}
	return out
}
