package role

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hemostat/hemostat/sdk"
)

// sink records what a grouper sends.
type sink struct {
	mu   sync.Mutex
	sent []sdk.Notification
	held map[string]int
	// accounted counts the offers whose done function was called.
	accounted int
}

// send records n as delivered.
func (s *sink) send(n sdk.Notification, _ string, done func()) {
	s.mu.Lock()
	s.sent = append(s.sent, n)
	s.mu.Unlock()
	done()
}

// done is an offer's done function, counted in accounted.
func (s *sink) done() func() {
	return func() {
		s.mu.Lock()
		s.accounted++
		s.mu.Unlock()
	}
}

func (s *sink) accountedFor() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accounted
}

func (s *sink) hold(how string) {
	s.mu.Lock()
	if s.held == nil {
		s.held = map[string]int{}
	}
	s.held[how]++
	s.mu.Unlock()
}

func (s *sink) messages() []sdk.Notification {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sdk.Notification(nil), s.sent...)
}

func (s *sink) waitFor(t *testing.T, n int) []sdk.Notification {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(s.messages()) < n && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	return s.messages()
}

func note(container, kind string) sdk.Notification {
	return sdk.Notification{
		Type: "remediation_complete", Kind: kind, Severity: sdk.SeverityInfo, Container: container,
		Title: container + ": " + kind, Time: time.Now(),
	}
}

func TestGrouperCountsRepeatsOfAnIncident(t *testing.T) {
	s := &sink{}
	g := newGrouper(150*time.Millisecond, Storm{}, s.send, s.hold)
	defer g.close()
	g.offer(note("api", sdk.KindRemediationDeferred), s.done())
	for range 3 {
		g.offer(note("api", sdk.KindRemediationDeferred), s.done())
	}
	g.offer(note("api", sdk.KindRemediationSuccess), s.done()) // another kind: its own incident
	g.offer(note("db", sdk.KindRemediationDeferred), s.done()) // another container: too

	got := s.waitFor(t, 4)
	if len(got) != 4 {
		t.Fatalf("sent %d messages, want 4: three firsts and one count", len(got))
	}
	for i, want := range []string{"api/remediation_deferred/0", "api/remediation_success/0", "db/remediation_deferred/0", "api/remediation_deferred/3"} {
		if k := fmt.Sprintf("%s/%s/%d", got[i].Container, got[i].Kind, got[i].Count); k != want {
			t.Errorf("message %d = %s, want %s", i, k, want)
		}
	}
	if got[3].FirstTime.IsZero() {
		t.Error("the counted message has no first time")
	}
	if s.held["grouped"] != 3 {
		t.Errorf("held %v, want 3 grouped", s.held)
	}
	// A quiet window ends the incident: the next one is news again.
	time.Sleep(400 * time.Millisecond)
	g.offer(note("api", sdk.KindRemediationDeferred), s.done())
	if got := s.waitFor(t, 5); len(got) != 5 || got[4].Count != 0 {
		t.Fatalf("after a quiet window: %d messages, last count %d; want the repeat sent at once", len(got), got[len(got)-1].Count)
	}
}

// TestGrouperStormOf50 is the storm: 50 containers fail at once;
// the first few are sent as they come, the rest become one summary that
// lists every one of them.
func TestGrouperStormOf50(t *testing.T) {
	s := &sink{}
	// Wait is long enough for the 100 offers below to come in before the
	// summary goes, however loaded the machine.
	g := newGrouper(time.Hour, Storm{Containers: 5, Window: time.Minute, Wait: time.Second}, s.send, s.hold)
	defer g.close()
	for i := range 50 {
		g.offer(note(fmt.Sprintf("web-%02d", i), sdk.KindRemediationSuccess), s.done())
	}
	for i := range 50 { // each fails again at once: counted, not sent
		g.offer(note(fmt.Sprintf("web-%02d", i), sdk.KindRemediationSuccess), s.done())
	}
	// The four sent and the 50 counted are accounted for; the 46 in the
	// summary only once it is delivered.
	if n := s.accountedFor(); n != 54 {
		t.Errorf("accounted for %d offers before the summary, want 54", n)
	}
	got := s.waitFor(t, 5)
	if len(got) != 5 {
		t.Fatalf("sent %d messages, want 4 before the storm and 1 summary", len(got))
	}
	sum := got[4]
	if sum.Kind != sdk.KindStorm || sum.Type != sdk.TypeSummary {
		t.Fatalf("last message is %s/%s, want the storm summary", sum.Type, sum.Kind)
	}
	if len(sum.Summary) != 46 || sum.Summary[0].Container != "web-04" || sum.Summary[45].Container != "web-49" {
		t.Errorf("summary lists %d incidents (%v …), want web-04 … web-49", len(sum.Summary), sum.Summary[:min(2, len(sum.Summary))])
	}
	if sum.Count != 46 {
		t.Errorf("summary stands for %d notifications, want 46", sum.Count)
	}
	if s.held["summarized"] != 46 || s.held["grouped"] != 50 {
		t.Errorf("held %v, want 46 summarized, 50 grouped", s.held)
	}
	if n := s.accountedFor(); n != 100 {
		t.Errorf("accounted for %d offers after the summary, want 100", n)
	}
	// Closing sends the counts still held: one message per container that
	// repeated, but they arrive in a storm, so as a second summary.
	g.close()
	got = s.messages()
	if len(got) != 6 || got[5].Kind != sdk.KindStorm || got[5].Count != 50 {
		t.Fatalf("after close: %d messages, last %s count %d; want one more summary of the 50 repeats", len(got), got[len(got)-1].Kind, got[len(got)-1].Count)
	}
}

func TestGrouperWithoutWindowSendsEverything(t *testing.T) {
	s := &sink{}
	g := newGrouper(0, Storm{}, s.send, s.hold)
	for range 3 {
		g.offer(note("api", sdk.KindFalseAlarm), s.done())
	}
	g.close()
	if n := len(s.messages()); n != 3 {
		t.Errorf("sent %d, want 3", n)
	}
}
