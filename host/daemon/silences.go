package daemon

import (
	"context"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/host/config"
	"github.com/hemostat/hemostat/host/silence"
)

// applySilences writes the config file's silences to the shared store, each
// under an id derived from its pattern and event, so that a restart
// replaces it rather than adding a copy. One that has already ended is
// skipped: an old file must keep working. A failure is logged, not fatal —
// a silence is a convenience, the alerts are what matter.
func applySilences(ctx context.Context, store *silence.Store, list []config.Silence, log hclog.Logger) {
	now := time.Now()
	for _, c := range list {
		if !c.Until.After(now) {
			log.Info("config silence has ended; not applied", "containers", c.Containers, "event", c.Event, "until", c.Until, "at", c.Pos)
			continue
		}
		s, err := store.Add(ctx, silence.Silence{
			ID: silence.ConfigID(c.Containers, c.Event), Container: c.Containers, Event: c.Event,
			Ends: c.Until, Comment: c.Comment, CreatedBy: "config",
		})
		if err != nil {
			log.Error("cannot apply config silence", "at", c.Pos, "error", err)
			continue
		}
		log.Info("silence applied from config", "id", s.ID, "containers", s.Container, "event", s.Event, "until", s.Ends)
	}
}
