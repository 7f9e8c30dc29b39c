// Command responder-record is a responder plugin for end-to-end tests: it
// appends every request to the shared state key "e2e-remediations" and
// answers success, or failed for containers listed in fail; for those
// listed in hang it never answers (until the call's context ends).
package main

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/hemostat/hemostat/sdk"
)

type responder struct {
	host sdk.Host
	Fail []string `json:"fail"`
	Hang []string `json:"hang"`

	mu sync.Mutex
}

func (r *responder) Configure(_ context.Context, raw json.RawMessage, host sdk.Host) error {
	r.host = host
	return sdk.DecodeConfig(raw, r)
}

func (r *responder) Capabilities(context.Context) ([]string, error) {
	return []string{sdk.ActionRestart, sdk.ActionStop, sdk.ActionStart}, nil
}

func (r *responder) Remediate(ctx context.Context, req sdk.RemediateRequest) (sdk.Result, error) {
	started := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	var seen []sdk.RemediateRequest
	if _, err := r.host.GetSharedState(ctx, "e2e-remediations", &seen); err != nil {
		return sdk.Result{}, err
	}
	if err := r.host.SetSharedState(ctx, "e2e-remediations", append(seen, req)); err != nil {
		return sdk.Result{}, err
	}
	if slices.Contains(r.Hang, req.Container) {
		<-ctx.Done()
		return sdk.Result{}, ctx.Err()
	}
	if slices.Contains(r.Fail, req.Container) {
		return sdk.Result{Status: sdk.StatusFailed, Error: "scripted failure", Duration: time.Since(started), StateAfter: "exited (1)"}, nil
	}
	return sdk.Result{Status: sdk.StatusSuccess, Duration: time.Since(started), StateAfter: "running"}, nil
}

func main() {
	sdk.Serve(sdk.ServeConfig{Name: "record", Version: "test", Plugin: &responder{}})
}
