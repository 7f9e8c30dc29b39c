package sdk_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/hemostat/hemostat/sdk"
)

// scriptNotifier fails as told and keeps state with a lifetime, so that
// the test crosses both directions of the wire.
type scriptNotifier struct {
	host sdk.Host
	fail error
	got  sdk.Notification
}

func (s *scriptNotifier) Configure(_ context.Context, _ json.RawMessage, host sdk.Host) error {
	s.host = host
	return nil
}

func (s *scriptNotifier) Notify(ctx context.Context, n sdk.Notification) error {
	s.got = n
	if err := sdk.SetSharedStateTTL(ctx, s.host, "thread:"+n.Container, map[string]string{"ts": "1.2"}, 90*time.Minute); err != nil {
		return err
	}
	return s.fail
}

func TestDeliveryErrorsCrossTheWire(t *testing.T) {
	impl := &scriptNotifier{}
	h := sdk.NewHarness(t, impl)
	ctx := context.Background()
	if err := h.Configure(ctx, map[string]any{}); err != nil {
		t.Fatal(err)
	}
	n := sdk.Notification{
		Type: "summary", Kind: sdk.KindStorm, Severity: sdk.SeverityCritical, Container: "api", Host: "h1",
		Title: "t", Time: time.Unix(100, 0).UTC(), FirstTime: time.Unix(90, 0).UTC(), Count: 3,
		Action: "restart", Status: "success", Reason: "r", Error: "e", Confidence: 0.9, Analyzer: "threshold",
		Fallback: "llm: timeout", DryRun: true, Figures: []sdk.Figure{{Name: "CPU", Value: "92.5%"}},
		Summary: []sdk.SummaryItem{{Container: "api", Host: "h1", Kind: sdk.KindRemediationSuccess, Severity: "info", Title: "x", Count: 2}},
	}
	for _, tc := range []struct {
		name      string
		fail      error
		permanent bool
		after     time.Duration
	}{
		{"delivered", nil, false, 0},
		{"permanent", sdk.Permanent(errors.New("invalid_auth")), true, 0},
		{"retry after", sdk.RetryAfter(errors.New("rate limited"), 30*time.Second), false, 30 * time.Second},
		{"transient", errors.New("502 bad gateway"), false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			impl.fail = tc.fail
			err := h.Notifier().Notify(ctx, n)
			if (err != nil) != (tc.fail != nil) {
				t.Fatalf("Notify = %v", err)
			}
			if sdk.IsPermanent(err) != tc.permanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", err, !tc.permanent, tc.permanent)
			}
			if d, _ := sdk.RetryAfterOf(err); d != tc.after {
				t.Errorf("RetryAfterOf(%v) = %s, want %s", err, d, tc.after)
			}
			if !reflect.DeepEqual(impl.got, n) {
				t.Errorf("the plugin got\n%+v\nwant\n%+v", impl.got, n)
			}
		})
	}
	if ttl := h.Host.TTL("thread:api"); ttl != 90*time.Minute {
		t.Errorf("state kept for %s, want 1h30m", ttl)
	}
}
