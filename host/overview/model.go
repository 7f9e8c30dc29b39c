package overview

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Sizes of what is kept per container and in all.
const (
	HistoryPoints   = 60
	DecisionsKept   = 10
	RemediationsMax = 500
	// ContainersMax bounds the records: alerts naming ever new containers
	// (a flood, a broken or hostile publisher) must not grow hemostatd's
	// memory without end. Past it, the records touched longest ago go
	// first, escalated ones last.
	ContainersMax = 10_000
)

// DefaultSettle is how long a container must run healthy, with no new
// alert, before its escalation is unpinned: a crash-looping container is
// "running" between its crashes, and that is not healthy again.
const DefaultSettle = time.Minute

// DefaultRelapse is how long a successful remediation must hold before it
// counts as one: the responder's backoff.reset_after, the calm after which
// Kubernetes, too, forgets a crash loop. A restart of a container that is
// acted on or escalated again sooner relapsed.
const DefaultRelapse = 10 * time.Minute

// Options configure a Model.
type Options struct {
	// Registerer, when set, receives the incident metrics.
	Registerer prometheus.Registerer
	// Settle overrides DefaultSettle; a negative value means none.
	Settle time.Duration
	// Relapse overrides DefaultRelapse; a negative value means none.
	Relapse time.Duration
	// Now is the clock; time.Now by default.
	Now func() time.Time
}

// Model is the overview's record of every container. Its methods are safe
// for concurrent use.
type Model struct {
	settle  time.Duration
	now     func() time.Time
	relapse time.Duration // guarded by mu
	metrics *metrics

	mu           sync.Mutex
	containers   map[string]*record
	remediations []Remediation // oldest first, at most RemediationsMax
	lastSeq      uint64        // the newest remediation's seq
	totals       tally
	seen         *seenSet
	// gone is when each destroyed container went: news of it — a stats
	// key another monitor wrote, which outlives it by up to
	// protocol.StatsTTL, a late action's result, the gate's state — must
	// not bring it back. At most ContainersMax names, kept goneKept.
	gone map[string]time.Time
	// tick orders the records' last touches, for eviction.
	tick uint64
}

// tally accumulates the summary's figures.
type tally struct {
	remediations, succeeded, relapsed, falseAlarms, escalations int
	foreignActions                                              int
	detectN, remediateN                                         int
	detectSum, remediateSum                                     time.Duration
}

// New returns an empty model.
func New(opts Options) *Model {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	switch {
	case opts.Settle == 0:
		opts.Settle = DefaultSettle
	case opts.Settle < 0:
		opts.Settle = 0
	}
	return &Model{
		settle: opts.Settle, relapse: relapseWindow(opts.Relapse), now: opts.Now, metrics: newMetrics(opts.Registerer),
		containers: make(map[string]*record), seen: newSeenSet(), gone: make(map[string]time.Time),
	}
}

// record is what the model knows of one container.
type record struct {
	name           string
	status, health string
	cpu, mem       float64
	lastSeen       time.Time
	touched        uint64  // the model's tick when last touched
	history        []Point // oldest first
	alert          *Alert
	decisions      []Decision // newest first
	action         *Action
	escalation     *Escalation
	foreign        *ForeignAction
	// incident is the time of the first alert not yet resolved by a
	// successful remediation or a false alarm; zero when none is open.
	incident time.Time
	// healthySince is since when the samples show it running and not
	// unhealthy; zero while they do not.
	healthySince time.Time
	falseAlarmAt time.Time
	// holding is the time of the last successful remediation not yet
	// proven to hold (see DefaultRelapse), and holdingSeq its number in
	// the remediation list; zero when none is on trial.
	holding    time.Time
	holdingSeq uint64
}

// get returns the container's record, creating it. m.mu must be held.
func (m *Model) get(name string) *record {
	r := m.containers[name]
	if r == nil {
		if len(m.containers) >= ContainersMax {
			m.evict()
		}
		r = &record{name: name, status: "unknown", health: "none"}
		m.containers[name] = r
	}
	m.tick++
	r.touched = m.tick
	return r
}

// goneKept is how long a destroyed container's name is remembered once
// ContainersMax of them are: longer than the protocol's longest TTL and
// the gate's default retention, after which nothing speaks of it.
const goneKept = time.Hour

// forgetGone bounds gone, which a host that creates and destroys
// containers of new names all day would otherwise grow for ever: at
// ContainersMax names it drops those older than goneKept, and, when a
// flood of destroys left more, the oldest tenth. m.mu must be held.
func (m *Model) forgetGone(now time.Time) {
	if len(m.gone) < ContainersMax {
		return
	}
	for name, went := range m.gone {
		if now.Sub(went) > goneKept {
			delete(m.gone, name)
		}
	}
	if len(m.gone) < ContainersMax {
		return
	}
	names := make([]string, 0, len(m.gone))
	for name := range m.gone {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int { return m.gone[a].Compare(m.gone[b]) })
	for _, name := range names[:len(names)-ContainersMax*9/10] {
		delete(m.gone, name)
	}
}

// about returns the record that news of a container updates: a decision,
// an action's result, an escalation. A container destroyed since is not
// brought back by news of its past — a deferred action skipped because
// the container no longer exists comes after the destroy — so the news
// updates a record nobody keeps (the totals and the remediation list
// still count it). Only an observation brings a destroyed name back: a
// sample, a newer stats key, an alert with a newer sample. m.mu must be
// held.
func (m *Model) about(name string) *record {
	if _, gone := m.gone[name]; gone {
		return &record{name: name}
	}
	return m.get(name)
}

// evict drops the tenth of ContainersMax records touched longest ago,
// escalated ones last, so that a flood of new names costs one sort per
// thousand of them. m.mu must be held.
func (m *Model) evict() {
	recs := make([]*record, 0, len(m.containers))
	for _, r := range m.containers {
		recs = append(recs, r)
	}
	slices.SortFunc(recs, func(a, b *record) int {
		if ea, eb := a.escalation != nil, b.escalation != nil; ea != eb {
			if ea {
				return 1
			}
			return -1
		}
		return cmp.Compare(a.touched, b.touched)
	})
	for _, r := range recs[:len(recs)-ContainersMax*9/10] {
		delete(m.containers, r.name)
	}
}

// Totals returns the summary's figures.
func (m *Model) Totals() Totals {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.totals
	out := Totals{
		Containers: len(m.containers), Remediations: t.remediations, Succeeded: t.succeeded, Relapsed: t.relapsed,
		FalseAlarms: t.falseAlarms, Escalations: t.escalations, ForeignActions: t.foreignActions,
	}
	if t.remediations > 0 {
		out.SuccessRate = float64(t.succeeded-t.relapsed) / float64(t.remediations)
	}
	if t.detectN > 0 {
		out.MeanTimeToDetectMS = ms(t.detectSum / time.Duration(t.detectN))
	}
	if t.remediateN > 0 {
		out.MeanTimeToRemediateMS = ms(t.remediateSum / time.Duration(t.remediateN))
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Remediations returns up to limit remediations, newest first, of one
// container or ("" ) of all.
func (m *Model) Remediations(container string, limit int) []Remediation {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []Remediation{}
	for i := len(m.remediations) - 1; i >= 0 && len(out) < limit; i-- {
		if container == "" || m.remediations[i].Container == container {
			out = append(out, m.remediations[i])
		}
	}
	return out
}
