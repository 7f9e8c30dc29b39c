package sdk

import (
	"context"
	"slices"
)

type responderActionsKey struct{}

// WithResponderActions returns a context that carries the responder role's
// action allowlist. The host sets it on the context of Configure; the SDK
// carries it over the wire, so that a plugin's Configure reads it back with
// ResponderActions.
func WithResponderActions(ctx context.Context, actions []string) context.Context {
	return context.WithValue(ctx, responderActionsKey{}, slices.Clone(actions))
}

// ResponderActions is the responder role's action allowlist as the host
// sent it with Configure: an analyzer that proposes only these never has a
// decision refused for its action. Nil when the host did not say (a test
// harness, or a host whose responder is external).
func ResponderActions(ctx context.Context) []string {
	actions, _ := ctx.Value(responderActionsKey{}).([]string)
	return slices.Clone(actions)
}
