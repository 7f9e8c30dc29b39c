package main

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"

	"github.com/hemostat/hemostat/sdk"
)

type maintenance struct{ prefix atomic.Pointer[string] } // set by Configure, read by Analyze

func (m *maintenance) Configure(_ context.Context, raw json.RawMessage, _ sdk.Host) error {
	var cfg struct {
		Prefix string `json:"prefix"`
	}
	if err := sdk.DecodeConfig(raw, &cfg); err != nil {
		return err
	}
	if cfg.Prefix == "" {
		return sdk.ConfigError{Key: "prefix", Message: `is required, e.g. prefix = "batch-"`}
	}
	m.prefix.Store(&cfg.Prefix)
	return nil
}

func (m *maintenance) Analyze(_ context.Context, req sdk.AnalyzeRequest) (sdk.Decision, error) {
	if p := m.prefix.Load(); p != nil && strings.HasPrefix(req.Alert.Container, *p) {
		return sdk.Decision{Verdict: sdk.VerdictFalseAlarm, Confidence: 1, Reason: "in maintenance: name starts with " + *p}, nil
	}
	return sdk.Decision{Verdict: sdk.VerdictAbstain, Reason: "not in maintenance"}, nil
}

func main() {
	sdk.Serve(sdk.ServeConfig{Name: "maintenance", Version: "1.0.0", Plugin: &maintenance{}})
}
