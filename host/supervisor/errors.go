package supervisor

import "errors"

// ErrUnavailable is wrapped by every error of a call that did not reach a
// working plugin: the process died or hung, the transport broke, or the
// plugin is being restarted. Callers decide what to do without it (the
// analyzer chain falls through to the next analyzer).
var ErrUnavailable = errors.New("plugin unavailable")

// ErrNotSent is wrapped, beside ErrUnavailable, by the error of a call
// that never left the host: no plugin process was there to take it. A call
// that fails with ErrUnavailable alone was sent, and the plugin may have
// begun its work before it died.
var ErrNotSent = errors.New("call not sent")

// ErrStopped is returned by Start once Stop has been called.
var ErrStopped = errors.New("plugin supervisor stopped")

// errExited is why a plugin whose process ended is restarted.
var errExited = errors.New("plugin process exited")

// errRoleMismatch is returned when a binary serves another role than the
// one its Spec names.
var errRoleMismatch = errors.New("plugin serves another role")
