// Command alert-record is an alert plugin for end-to-end tests: it appends
// every notification to the shared state key "e2e-notifications".
package main

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/hemostat/hemostat/sdk"
)

type notifier struct {
	host sdk.Host
	mu   sync.Mutex
}

func (n *notifier) Configure(_ context.Context, raw json.RawMessage, host sdk.Host) error {
	n.host = host
	return sdk.DecodeConfig(raw, &struct{}{})
}

func (n *notifier) Notify(ctx context.Context, note sdk.Notification) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	var seen []sdk.Notification
	if _, err := n.host.GetSharedState(ctx, "e2e-notifications", &seen); err != nil {
		return err
	}
	note.Event = nil // the test reads the envelope from Redis itself
	return n.host.SetSharedState(ctx, "e2e-notifications", append(seen, note))
}

func main() {
	sdk.Serve(sdk.ServeConfig{Name: "record", Version: "test", Plugin: &notifier{}})
}
