// Command monitor-script is a monitor plugin for end-to-end tests: it polls
// the shared state key "e2e-script" through the host callback and streams
// every sample it has not streamed yet. Its progress is kept in shared state
// too, so a restarted plugin does not replay old samples.
package main

import (
	"context"
	"encoding/json"
	"time"

	"github.com/hemostat/hemostat/sdk"
)

type script struct {
	Samples []sdk.Sample `json:"samples"`
}

type monitor struct {
	host sdk.Host
	Poll string `json:"poll"`
	poll time.Duration
}

func (m *monitor) Configure(_ context.Context, raw json.RawMessage, host sdk.Host) error {
	m.host, m.Poll = host, "20ms"
	if err := sdk.DecodeConfig(raw, m); err != nil {
		return err
	}
	d, err := time.ParseDuration(m.Poll)
	if err != nil || d <= 0 {
		return sdk.ConfigError{Key: "poll", Message: "must be a positive duration like \"20ms\""}
	}
	m.poll = d
	return nil
}

func (m *monitor) Watch(ctx context.Context, emit func(sdk.Sample) error) error {
	var done int
	if _, err := m.host.GetSharedState(ctx, "e2e-progress", &done); err != nil {
		return err
	}
	tick := time.NewTicker(m.poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		var s script
		if _, err := m.host.GetSharedState(ctx, "e2e-script", &s); err != nil {
			return err
		}
		for ; done < len(s.Samples); done++ {
			sample := s.Samples[done]
			if sample.Time.IsZero() {
				sample.Time = time.Now().UTC()
			}
			if err := emit(sample); err != nil {
				return err
			}
			if err := m.host.SetSharedState(ctx, "e2e-progress", done+1); err != nil {
				return err
			}
		}
	}
}

func main() {
	sdk.Serve(sdk.ServeConfig{Name: "script", Version: "test", Plugin: &monitor{}})
}
