package scripted

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/hemostat/hemostat/sdk"
)

// Config is the settings every scripted plugin accepts. Unknown keys are
// rejected, as a real plugin's would be.
type Config struct {
	// Verdict is what the analyzer answers; default remediate.
	Verdict string `json:"verdict"`
	// CrashOnCall makes the process exit with status 3 on its Nth role call
	// (counted per process, from 1); 0 never.
	CrashOnCall int `json:"crash_on_call"`
	// HangOnCall makes the Nth role call and every later one block for good,
	// ignoring its context, as a wedged plugin would; 0 never.
	HangOnCall int `json:"hang_on_call"`
	// Samples is how many samples the monitor emits before it idles.
	Samples int `json:"samples"`
	// DelayMS makes every role call take this long, as a slow analyzer's
	// would; the call's context still ends it.
	DelayMS int `json:"delay_ms"`
	// PanicInConfigure makes Configure panic with PanicMessage, taking the
	// process down as an unrecovered panic in a real plugin would.
	PanicInConfigure bool `json:"panic_in_configure"`
	// PanicOnCall makes the Nth role call panic with PanicMessage; 0 never.
	PanicOnCall int `json:"panic_on_call"`
}

// PanicMessage is what the scripted plugins panic with, for a test to
// find in the host's errors.
const PanicMessage = "scripted plugin: deliberate panic"

// CallEvent is the event type every role call publishes through the host,
// so that a test sees that the host callback works in each process.
const CallEvent = "scripted_call"

// Call is the data of a CallEvent.
type Call struct {
	PID    int    `json:"pid"`
	N      int    `json:"n"`
	Method string `json:"method"`
	// Environ is the plugin process's environment, so that a test sees
	// what a plugin inherits.
	Environ []string `json:"environ"`
}

// script is the state shared by every role: the settings, the host and the
// per-process call counter.
type script struct {
	mu    sync.Mutex
	cfg   Config
	host  sdk.Host
	calls int
}

func (s *script) Configure(_ context.Context, raw json.RawMessage, host sdk.Host) error {
	var cfg Config
	if err := sdk.DecodeConfig(raw, &cfg); err != nil {
		return err
	}
	var errs sdk.ConfigErrors
	if cfg.PanicInConfigure {
		panic(PanicMessage + " in Configure")
	}
	if cfg.Verdict == "" {
		cfg.Verdict = sdk.VerdictRemediate
	}
	verdicts := []string{sdk.VerdictRemediate, sdk.VerdictFalseAlarm, sdk.VerdictEscalate, sdk.VerdictAbstain}
	if !slices.Contains(verdicts, cfg.Verdict) {
		errs = append(errs, sdk.ConfigError{Key: "verdict", Message: fmt.Sprintf("must be one of %v", verdicts)})
	}
	for key, n := range map[string]int{"crash_on_call": cfg.CrashOnCall, "hang_on_call": cfg.HangOnCall, "samples": cfg.Samples, "delay_ms": cfg.DelayMS, "panic_on_call": cfg.PanicOnCall} {
		if n < 0 {
			errs = append(errs, sdk.ConfigError{Key: key, Message: "must not be negative"})
		}
	}
	if len(errs) > 0 {
		slices.SortFunc(errs, func(a, b sdk.ConfigError) int { return cmp.Compare(a.Key, b.Key) })
		return errs
	}
	s.mu.Lock()
	s.cfg, s.host = cfg, host
	s.mu.Unlock()
	return nil
}

// enter counts a role call, carries out the scripted misbehaviour and
// reports the call to the host. It returns the call's number.
func (s *script) enter(ctx context.Context, method string) (int, error) {
	s.mu.Lock()
	s.calls++
	n, cfg, host := s.calls, s.cfg, s.host
	s.mu.Unlock()
	if cfg.CrashOnCall > 0 && n == cfg.CrashOnCall {
		os.Exit(3)
	}
	if cfg.PanicOnCall > 0 && n == cfg.PanicOnCall {
		panic(fmt.Sprintf("%s on call %d", PanicMessage, n))
	}
	if cfg.HangOnCall > 0 && n >= cfg.HangOnCall {
		// A wedged plugin does not look at its context.
		time.Sleep(time.Hour)
	}
	if cfg.DelayMS > 0 {
		select {
		case <-time.After(time.Duration(cfg.DelayMS) * time.Millisecond):
		case <-ctx.Done():
			return n, ctx.Err()
		}
	}
	if host == nil {
		return n, fmt.Errorf("%s before Configure", method)
	}
	if err := host.PublishEvent(ctx, CallEvent, Call{PID: os.Getpid(), N: n, Method: method, Environ: os.Environ()}); err != nil {
		return n, fmt.Errorf("publish %s: %w", CallEvent, err)
	}
	return n, nil
}

func (s *script) settings() Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}
