package role

import "context"

// Active tells a role whether this daemon is the one acting on its engine
// now (it holds the engine's lease, see host/lease); nil means always. A
// standby daemon's roles drop what they hear: the active daemon, on the
// same engine and the same Redis, hears the same envelopes and handles
// them, and two handlings would judge, notify or act twice.
type Active func() bool

func (f Active) now() bool { return f == nil || f() }

// Fence is checked right before each responder action: nil only if this
// daemon still holds its engine's lease, under the generation it believes
// it holds, as Redis confirms. nil Fence means no lease.
type Fence func(ctx context.Context) error

func (f Fence) check(ctx context.Context) error {
	if f == nil {
		return nil
	}
	return f(ctx)
}
