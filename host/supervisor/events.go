package supervisor

// EventKind says what happened to a supervised plugin.
type EventKind string

// Kinds of Event.
const (
	// EventFailed: the plugin's process died or hung, or a restart of it
	// failed; the supervisor keeps trying.
	EventFailed EventKind = "failed"
	// EventRestarted: a new process of the plugin runs after a failure.
	EventRestarted EventKind = "restarted"
	// EventGaveUp: the plugin cannot be restarted without an operator.
	EventGaveUp EventKind = "gave_up"
)

// Event is a change in a plugin's health, for whoever tells people about
// it: the log says it too, but nobody reads the log of a daemon that seems
// fine.
type Event struct {
	Role, Name string
	Kind       EventKind
	// Err is why it failed; nil for EventRestarted.
	Err error
	// Restarts is how many relaunches the plugin has had so far.
	Restarts int
}

// emit hands ev to Options.OnEvent, when set.
func (p *Plugin) emit(kind EventKind, err error) {
	if p.sup.opts.OnEvent == nil {
		return
	}
	p.mu.Lock()
	n := p.restarts
	p.mu.Unlock()
	p.sup.opts.OnEvent(Event{Role: p.spec.Role, Name: p.spec.Name, Kind: kind, Err: err, Restarts: n})
}
