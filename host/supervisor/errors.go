package supervisor

import "errors"

// ErrUnavailable is wrapped by every error of a call that did not reach a
// working plugin: the process died or hung, the transport broke, or the
// plugin is being restarted. Callers decide what to do without it (the
// analyzer chain falls through to the next analyzer).
var ErrUnavailable = errors.New("plugin unavailable")

// ErrStopped is returned by Start once Stop has been called.
var ErrStopped = errors.New("plugin supervisor stopped")

// errExited is why a plugin whose process ended is restarted.
var errExited = errors.New("plugin process exited")

// errRoleMismatch is returned when a binary serves another role than the
// one its Spec names.
var errRoleMismatch = errors.New("plugin serves another role")
