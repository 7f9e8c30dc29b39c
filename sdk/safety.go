package sdk

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// SafetyPolicy is the part of hemostatd's safety gate that depends only on
// the container acted on. The host applies it before asking a responder,
// and hands it to responder plugins in Configure (see SafetyPolicyOf) so
// that they apply it again to the container a request's reference
// resolves to: a forged request or a host without the gate cannot skip it.
type SafetyPolicy struct {
	// Protected lists container names, or path.Match globs over names,
	// never acted on.
	Protected []string
	// Actions is the allowlist; empty allows none.
	Actions []string
	// RequireOptIn limits actions to containers labelled
	// hemostat.enable=true.
	RequireOptIn bool
}

// Refusal explains why action must not touch the container called name
// with labels (nil when unknown), or returns "" when the policy allows it.
func (p SafetyPolicy) Refusal(name, action string, labels map[string]string) string {
	if reason := p.ProtectedReason(name); reason != "" {
		return reason
	}
	if reason := LabelRefusal(name, labels, p.RequireOptIn); reason != "" {
		return reason
	}
	if !slices.Contains(p.Actions, action) {
		if len(p.Actions) == 0 {
			return fmt.Sprintf("action %q is not allowed: no actions are allowed", action)
		}
		return fmt.Sprintf("action %q is not allowed (allowed: %s)", action, strings.Join(p.Actions, ", "))
	}
	return ""
}

// ProtectedReason explains why the container called name is protected, or
// returns "". Docker spells names with a leading slash and a glob's "*"
// does not match one, so bare names are compared: "*redis*" protects
// "/hemostat-redis". A pattern that is not a valid glob protects the name
// it spells.
func (p SafetyPolicy) ProtectedReason(name string) string {
	bare := strings.TrimPrefix(name, "/")
	for _, pattern := range p.Protected {
		pattern = strings.TrimPrefix(pattern, "/")
		if pattern == bare {
			return fmt.Sprintf("container %s is protected", name)
		}
		if ok, err := path.Match(pattern, bare); ok && err == nil {
			return fmt.Sprintf("container %s is protected (matches %q)", name, pattern)
		}
	}
	return ""
}

// LabelRefusal explains why the container's hemostat.enable label forbids
// acting on it, or returns "". labels is nil when they are unknown.
func LabelRefusal(container string, labels map[string]string, requireOptIn bool) string {
	value, present := labels[LabelEnable]
	if present {
		enabled, known := ParseSwitch(value)
		switch {
		case !known:
			// Intent unclear: leaving the container alone is the only
			// choice that cannot make things worse.
			return fmt.Sprintf("container %s has label %s=%q, which is neither true nor false; leaving it alone", container, LabelEnable, value)
		case !enabled:
			return fmt.Sprintf("container %s opted out with label %s=%s", container, LabelEnable, value)
		}
		return ""
	}
	if !requireOptIn {
		return ""
	}
	if labels == nil {
		return fmt.Sprintf("container %s is not opted in: label %s=true is required and its labels are unknown", container, LabelEnable)
	}
	return fmt.Sprintf("container %s is not opted in: label %s=true is required", container, LabelEnable)
}

// PolicyHost is a Host that carries the host's safety policy to a
// responder plugin's Configure.
type PolicyHost interface {
	Host
	SafetyPolicy() SafetyPolicy
}

// SafetyPolicyOf returns the safety policy h carries; ok is false when the
// host gave none.
func SafetyPolicyOf(h Host) (p SafetyPolicy, ok bool) {
	ph, ok := h.(PolicyHost)
	if !ok {
		return SafetyPolicy{}, false
	}
	return ph.SafetyPolicy(), true
}

// WithSafetyPolicy returns h carrying p, for Configure.
func WithSafetyPolicy(h Host, p SafetyPolicy) PolicyHost {
	if h == nil {
		h = noHost{}
	}
	p.Protected = slices.Clone(p.Protected)
	p.Actions = slices.Clone(p.Actions)
	return policyHost{Host: h, policy: p}
}

type policyHost struct {
	Host
	policy SafetyPolicy
}

func (h policyHost) SafetyPolicy() SafetyPolicy {
	p := h.policy
	p.Protected = slices.Clone(p.Protected)
	p.Actions = slices.Clone(p.Actions)
	return p
}
