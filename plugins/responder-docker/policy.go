package dockerresponder

import (
	"fmt"
	"slices"

	"github.com/docker/docker/api/types/container"
	"github.com/hemostat/hemostat/sdk"
)

// targetPolicy is the host's safety policy as the plugin applies it to the
// container a request resolves to. The host's gate judged the reference it
// was given — a name, an ID, an ID prefix, or whatever a forged
// remediation_needed carried — so the plugin, which alone asks the engine
// what the reference is, applies the same rules again to the real
// container.
type targetPolicy struct {
	sdk.SafetyPolicy
	// fromHost is false when the host handed no policy (a custom host, a
	// test): the protected defaults, the opt-out label and the own
	// container still hold; every action of the plugin is allowed.
	fromHost bool
}

// policyFrom reads the policy the host handed to Configure.
func policyFrom(host sdk.Host) targetPolicy {
	if p, ok := sdk.SafetyPolicyOf(host); ok {
		return targetPolicy{SafetyPolicy: p, fromHost: true}
	}
	return targetPolicy{SafetyPolicy: sdk.SafetyPolicy{Protected: DefaultProtectDependents(), Actions: actionNames()}}
}

// refusal explains why action must not touch target, or returns "".
func (p targetPolicy) refusal(self selfIdentity, target container.InspectResponse, action string) string {
	name := containerName(target)
	if reason := self.ownTarget(target.ID); reason != "" {
		return fmt.Sprintf("container %s: %s", name, reason)
	}
	var labels map[string]string
	if target.Config != nil {
		labels = target.Config.Labels
		if labels == nil {
			labels = map[string]string{} // known to have none
		}
	}
	return p.Refusal(name, action, labels)
}

// protects reports the protected pattern name matches, for dependents.
func (p targetPolicy) protects(name string) (string, bool) {
	i := slices.IndexFunc(p.Protected, func(pattern string) bool {
		return (sdk.SafetyPolicy{Protected: []string{pattern}}).ProtectedReason(name) != ""
	})
	if i < 0 {
		return "", false
	}
	return p.Protected[i], true
}
