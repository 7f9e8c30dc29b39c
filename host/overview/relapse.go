package overview

import "time"

// relapseWindow applies Options.Relapse's default and its "none".
func relapseWindow(d time.Duration) time.Duration {
	switch {
	case d == 0:
		return DefaultRelapse
	case d < 0:
		return 0
	}
	return d
}

// SetRelapse changes how long a successful remediation must hold (a
// config reload); Options.Relapse says what d means.
func (m *Model) SetRelapse(d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.relapse = relapseWindow(d)
}

// onTrial starts the trial of a success that just came in. m.mu must be
// held.
func (m *Model) onTrial(r *record, at time.Time) {
	r.holding, r.holdingSeq = at, m.lastSeq
}

// sickAgain judges the success on trial for r when the container is
// acted on or escalated again at at: within the window it relapsed — it
// no longer counts towards the success rate, and the remediation list
// says after how long — and past it, it held. m.mu must be held.
func (m *Model) sickAgain(r *record, at time.Time, live bool) {
	after := at.Sub(r.holding)
	if r.holding.IsZero() || after < 0 { // none on trial, or older news
		return
	}
	seq := r.holdingSeq
	r.holding, r.holdingSeq = time.Time{}, 0
	if m.relapse <= 0 || after >= m.relapse {
		return
	}
	m.totals.relapsed++
	if live {
		m.metrics.relapses.Inc()
	}
	for i := len(m.remediations) - 1; i >= 0 && m.remediations[i].seq >= seq; i-- {
		if m.remediations[i].seq == seq {
			m.remediations[i].RelapsedAfterMS = max(ms(after), 0.001)
			break
		}
	}
}
