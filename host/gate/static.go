package gate

import (
	"fmt"
	"math"
	"path"
	"slices"
	"strings"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/sdk"
)

// LabelEnable is the container label that opts a container in ("true") or
// out ("false") of remediation.
const LabelEnable = sdk.LabelEnable

// rules are the checks that depend only on the request and the policy, so
// they run without the gate's lock.
type rules struct {
	minConfidence float64
	actions       []string // the allowlist, in the order configured
	names         map[string]bool
	globs         []string
	requireOptIn  bool
}

func newRules(p Policy) rules {
	r := rules{
		minConfidence: p.MinConfidence,
		actions:       slices.Clone(p.Actions),
		names:         make(map[string]bool),
		requireOptIn:  p.RequireOptIn,
	}
	for _, pattern := range p.Protected {
		// A pattern that is not a valid glob still protects the container
		// it literally names; Validate tells the user about it.
		if _, err := path.Match(pattern, ""); err != nil || !strings.ContainsAny(pattern, `*?[\`) {
			r.names[strings.TrimPrefix(pattern, "/")] = true
			continue
		}
		r.globs = append(r.globs, strings.TrimPrefix(pattern, "/"))
	}
	return r
}

// check returns the refusal for r, or ok=false when r passes every rule.
func (ru *rules) check(r Request) (v Verdict, refused bool) {
	if r.Container == "" {
		return rejected("the request names no container"), true
	}
	if reason := ru.protected(r.Container); reason != "" {
		return rejected(reason), true
	}
	if reason := ru.labels(r.Container, r.Labels); reason != "" {
		return rejected(reason), true
	}
	if !slices.Contains(ru.actions, r.Action) {
		if len(ru.actions) == 0 {
			return rejected(fmt.Sprintf("action %q is not allowed: no actions are allowed", r.Action)), true
		}
		return rejected(fmt.Sprintf("action %q is not allowed (allowed: %s)", r.Action, strings.Join(ru.actions, ", "))), true
	}
	if math.IsNaN(r.Confidence) {
		return rejected("confidence is not a number"), true
	}
	if r.Confidence < ru.minConfidence {
		got, want := formatPair(r.Confidence, ru.minConfidence)
		return rejected(fmt.Sprintf("confidence %s is below the minimum %s", got, want)), true
	}
	return Verdict{}, false
}

// protected explains why the container must not be touched, or returns "".
func (ru *rules) protected(container string) string {
	// Docker's API spells names with a leading slash, and a glob's "*" does
	// not match a slash: compare bare names so that "*redis*" still
	// protects "/hemostat-redis".
	// In a fleet a container is "<host>/<name>": its name alone is
	// matched as well, so that "hemostat*" protects hemostatd on every
	// host.
	name := strings.TrimPrefix(container, "/")
	names := []string{name}
	if _, bare, ok := protocol.SplitQualified(name); ok {
		names = append(names, bare)
	}
	for _, name := range names {
		if ru.names[name] {
			return fmt.Sprintf("container %s is protected", container)
		}
		for _, glob := range ru.globs {
			if ok, _ := path.Match(glob, name); ok {
				return fmt.Sprintf("container %s is protected (matches %q)", container, glob)
			}
		}
	}
	return ""
}

// labels explains why the container's labels forbid acting, or returns "".
func (ru *rules) labels(container string, labels map[string]string) string {
	return sdk.LabelRefusal(container, labels, ru.requireOptIn)
}
