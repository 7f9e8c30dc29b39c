package scripted

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/hemostat/hemostat/sdk"
)

// Analyzer answers every alert with the configured verdict; the reason
// names the process that answered.
type Analyzer struct{ script }

// Analyze implements sdk.Analyzer.
func (a *Analyzer) Analyze(ctx context.Context, req sdk.AnalyzeRequest) (sdk.Decision, error) {
	n, err := a.enter(ctx, "Analyze")
	if err != nil {
		return sdk.Decision{}, err
	}
	if req.Alert.Container == "" {
		return sdk.Decision{}, errors.New("alert names no container")
	}
	return sdk.Decision{
		Verdict:    a.settings().Verdict,
		Action:     sdk.ActionRestart,
		Reason:     fmt.Sprintf("%s: pid %d call %d", req.Alert.Container, os.Getpid(), n),
		Confidence: 0.9,
	}, nil
}

// Monitor emits the configured number of samples, then idles until its
// context ends.
type Monitor struct{ script }

// Watch implements sdk.Monitor.
func (m *Monitor) Watch(ctx context.Context, emit func(sdk.Sample) error) error {
	if _, err := m.enter(ctx, "Watch"); err != nil {
		return err
	}
	for i := range m.settings().Samples {
		s := sdk.Sample{Container: "scripted-" + strconv.Itoa(i), Status: "running", CPUPct: float64(i), Time: time.Now()}
		if err := emit(s); err != nil {
			return err
		}
	}
	<-ctx.Done()
	return ctx.Err()
}

// Responder claims to restart containers; Details carry the answering pid.
type Responder struct{ script }

// Capabilities implements sdk.Responder.
func (r *Responder) Capabilities(ctx context.Context) ([]string, error) {
	if _, err := r.enter(ctx, "Capabilities"); err != nil {
		return nil, err
	}
	return []string{sdk.ActionRestart}, nil
}

// Remediate implements sdk.Responder.
func (r *Responder) Remediate(ctx context.Context, req sdk.RemediateRequest) (sdk.Result, error) {
	if _, err := r.enter(ctx, "Remediate"); err != nil {
		return sdk.Result{}, err
	}
	if req.Action != sdk.ActionRestart {
		return sdk.Result{Status: sdk.StatusNotApplicable, Error: "cannot " + req.Action}, nil
	}
	return sdk.Result{Status: sdk.StatusSuccess, Details: map[string]string{"pid": strconv.Itoa(os.Getpid()), "container": req.Container}}, nil
}

// Notifier accepts every notification that names a container.
type Notifier struct{ script }

// Notify implements sdk.Notifier.
func (n *Notifier) Notify(ctx context.Context, note sdk.Notification) error {
	if _, err := n.enter(ctx, "Notify"); err != nil {
		return err
	}
	if note.Container == "" {
		return errors.New("notification names no container")
	}
	return nil
}

// New returns a fresh scripted plugin for role.
func New(role string) (sdk.Plugin, error) {
	switch role {
	case sdk.RoleMonitor:
		return &Monitor{}, nil
	case sdk.RoleAnalyzer:
		return &Analyzer{}, nil
	case sdk.RoleResponder:
		return &Responder{}, nil
	case sdk.RoleAlert:
		return &Notifier{}, nil
	}
	return nil, fmt.Errorf("scripted: no plugin for role %q", role)
}

// Serve serves a scripted plugin for role under name; it is the whole main
// of every binary beside this package.
func Serve(role, name string) {
	impl, err := New(role)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	sdk.Serve(sdk.ServeConfig{Name: name, Version: "0.0.0-test", Plugin: impl})
}
