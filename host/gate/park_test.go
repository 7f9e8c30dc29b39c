package gate

import (
	"slices"
	"testing"
	"time"
)

func TestDeferReplacesParked(t *testing.T) {
	g, clock := newTestGate(DefaultPolicy())
	g.Record("api", "restart", "failed")
	clock.Advance(2 * time.Second)

	older := Request{Container: "api", Action: "restart", Confidence: 0.8}
	newer := Request{Container: "api", Action: "start", Confidence: 0.95, Labels: map[string]string{"app": "api"}}
	if at := g.Defer(older); !at.Equal(epoch.Add(10 * time.Second)) {
		t.Fatalf("Defer = %v, want the backoff's end %v", at, epoch.Add(10*time.Second))
	}
	clock.Advance(time.Second)
	g.Defer(newer)

	if due := g.Due(); len(due) != 0 {
		t.Fatalf("Due before the backoff ends = %+v, want none", due)
	}
	at, ok := g.NextDue()
	if !ok || !at.Equal(epoch.Add(10*time.Second)) {
		t.Fatalf("NextDue = %v, %v, want %v", at, ok, epoch.Add(10*time.Second))
	}
	clock.Advance(at.Sub(clock.Now()))
	due := g.Due()
	if len(due) != 1 || due[0].Action != "start" || due[0].Confidence != 0.95 || due[0].Labels["app"] != "api" {
		t.Fatalf("Due = %+v, want only the newer request", due)
	}
	if due := g.Due(); len(due) != 0 {
		t.Errorf("second Due = %+v, want none: Due removes what it returns", due)
	}
	if _, ok := g.NextDue(); ok {
		t.Error("NextDue reports a parked request after Due emptied the park")
	}
}

func TestDueOrderAndNextDue(t *testing.T) {
	p := noBreaker()
	g, clock := newTestGate(p)
	// c acted 3 times (next in 40s), a once (10s), b twice (20s); d never
	// acted, so its request is due at once.
	for name, times := range map[string]int{"a": 1, "b": 2, "c": 3} {
		for range times {
			g.Record(name, "restart", "success")
		}
	}
	for _, name := range []string{"c", "b", "a", "d", "e"} {
		g.Defer(restart(name))
	}
	g.Forget("e") // destroyed: its parked request goes too

	steps := []struct {
		advance time.Duration
		want    []string
		next    time.Duration // NextDue after Due, since epoch; -1 for none
	}{
		{0, []string{"d"}, 10 * time.Second},
		{9 * time.Second, nil, 10 * time.Second},
		{time.Second, []string{"a"}, 20 * time.Second},
		{time.Minute, []string{"b", "c"}, -1},
	}
	for i, s := range steps {
		clock.Advance(s.advance)
		var got []string
		for _, r := range g.Due() {
			got = append(got, r.Container)
		}
		if !slices.Equal(got, s.want) {
			t.Errorf("step %d: Due = %v, want %v", i, got, s.want)
		}
		at, ok := g.NextDue()
		switch {
		case s.next < 0 && ok:
			t.Errorf("step %d: NextDue = %v, want none", i, at)
		case s.next >= 0 && (!ok || !at.Equal(epoch.Add(s.next))):
			t.Errorf("step %d: NextDue = %v, %v, want %v", i, at, ok, epoch.Add(s.next))
		}
	}
}

func TestForget(t *testing.T) {
	g, _ := newTestGate(DefaultPolicy())
	for range 5 {
		g.Record("api", "restart", "failed")
	}
	g.Defer(restart("api"))
	g.Forget("api")
	if v := g.Check(restart("api")); v.Outcome != Allow {
		t.Errorf("after Forget: %+v, want allow", v)
	}
	if s := g.Snapshot(); len(s) != 0 {
		t.Errorf("after Forget: Snapshot = %+v, want empty", s)
	}
	if _, ok := g.NextDue(); ok {
		t.Error("after Forget: a request is still parked")
	}
}
