package silence

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hemostat/hemostat/internal/testenv"
)

var events = []string{"remediation_complete", "false_alarm", "escalation", "remediation_failed"}

func TestStore(t *testing.T) {
	ctx := context.Background()
	rdb := testenv.StartRedis(t).Client(t)
	st := NewStore(rdb, events)
	now := time.Date(2027, 1, 1, 12, 0, 0, 0, time.UTC)
	st.now = func() time.Time { return now }

	batch, err := st.Add(ctx, Silence{Container: "batch-*", Ends: now.Add(2 * time.Hour), Comment: "nightly jobs", CreatedBy: "cli"})
	if err != nil {
		t.Fatal(err)
	}
	web, err := st.Add(ctx, Silence{Container: "web", Event: "false_alarm", Ends: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		container, typ, kind string
		want                 string
	}{
		{"batch-7", "remediation_complete", "remediation_success", batch.ID},
		{"batch-7", "escalation", "escalation_breaker", batch.ID},
		{"web", "false_alarm", "false_alarm", web.ID},
		{"web", "remediation_complete", "remediation_failed", ""},
		{"api", "false_alarm", "false_alarm", ""},
	} {
		s, ok, err := st.Match(ctx, tc.container, tc.typ, tc.kind)
		if err != nil {
			t.Fatal(err)
		}
		if got := map[bool]string{true: s.ID}[ok]; got != tc.want {
			t.Errorf("Match(%s, %s, %s) = %q, want %q", tc.container, tc.typ, tc.kind, got, tc.want)
		}
	}

	list, err := st.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != web.ID || list[1].ID != batch.ID {
		t.Fatalf("List = %+v, want web (ends first) then batch", list)
	}
	if list[0].Silenced != 1 || list[1].Silenced != 2 {
		t.Errorf("counts = %d, %d, want 1, 2", list[0].Silenced, list[1].Silenced)
	}

	if _, err := st.Expire(ctx, batch.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := st.Match(ctx, "batch-7", "escalation", "escalation_breaker"); ok {
		t.Error("an expired silence still mutes")
	}
	if _, err := st.Expire(ctx, "nope"); err != ErrNotFound {
		t.Errorf("Expire(unknown) = %v, want ErrNotFound", err)
	}
	list, _ = st.List(ctx)
	if len(list) != 2 || list[0].ID != web.ID || list[1].Active(now) {
		t.Errorf("after expire: %+v, want web active first, batch expired", list)
	}

	// A day after it ended, an expired silence is pruned with its count.
	now = now.Add(Retention + 2*time.Hour)
	list, _ = st.List(ctx)
	if len(list) != 0 {
		t.Errorf("after retention: %+v, want none", list)
	}
	if n := rdb.HLen(ctx, CounterKey).Val(); n != 0 {
		t.Errorf("%d counters left after pruning", n)
	}
}

func TestValidate(t *testing.T) {
	now := time.Date(2027, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		s    Silence
		want string
	}{
		{Silence{Container: "web-*", Ends: now.Add(time.Minute)}, ""},
		{Silence{Ends: now.Add(time.Minute)}, "container: a name or glob pattern is required"},
		{Silence{Container: "web-[", Ends: now.Add(time.Minute)}, `container: "web-[" is not a valid glob pattern`},
		{Silence{Container: "web", Event: "lunch", Ends: now.Add(time.Minute)}, `event: "lunch" is neither`},
		{Silence{Container: "web"}, "ends_at: an end time is required"},
		{Silence{Container: "web", Ends: now.Add(-time.Minute)}, "is not in the future"},
	} {
		err := tc.s.Validate(now, events)
		if tc.want == "" {
			if err != nil {
				t.Errorf("Validate(%+v) = %v", tc.s, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.s, err, tc.want)
		}
	}
}

func TestConfigIDIsStable(t *testing.T) {
	if ConfigID("batch-*", "") != ConfigID("batch-*", "") || ConfigID("batch-*", "") == ConfigID("batch-*", "escalation") {
		t.Error("config ids must be stable per pattern and event and differ between them")
	}
}
