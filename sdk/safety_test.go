package sdk

import (
	"strings"
	"testing"
)

func TestSafetyPolicyRefusal(t *testing.T) {
	p := SafetyPolicy{Protected: []string{"*redis*", "/exact", "bad["}, Actions: []string{ActionRestart}}
	optIn := p
	optIn.RequireOptIn = true
	tests := []struct {
		name   string
		p      SafetyPolicy
		target string
		action string
		labels map[string]string
		want   string // substring; "" means allowed
	}{
		{"glob over a slashed name", p, "/hemostat-redis", ActionRestart, nil, "protected (matches \"*redis*\")"},
		{"exact name", p, "exact", ActionRestart, nil, "is protected"},
		{"invalid glob protects its literal name", p, "bad[", ActionRestart, nil, "is protected"},
		{"opted out", p, "app", ActionRestart, map[string]string{LabelEnable: "off"}, "opted out"},
		{"unclear label", p, "app", ActionRestart, map[string]string{LabelEnable: "perhaps"}, "neither true nor false"},
		{"action off the list", p, "app", ActionKill, nil, `action "kill" is not allowed (allowed: restart)`},
		{"no actions at all", SafetyPolicy{}, "app", ActionRestart, nil, "no actions are allowed"},
		{"opt-in required, labels unknown", optIn, "app", ActionRestart, nil, "labels are unknown"},
		{"opt-in required, not labelled", optIn, "app", ActionRestart, map[string]string{}, "is not opted in"},
		{"opted in", optIn, "app", ActionRestart, map[string]string{LabelEnable: "true"}, ""},
		{"allowed", p, "app", ActionRestart, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.p.Refusal(tt.target, tt.action, tt.labels)
			if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
				t.Fatalf("Refusal = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSafetyPolicyOf(t *testing.T) {
	if _, ok := SafetyPolicyOf(NewMemoryHost()); ok {
		t.Fatal("a plain host carries a policy")
	}
	in := SafetyPolicy{Protected: []string{"x"}, Actions: []string{ActionStart}}
	h := WithSafetyPolicy(NewMemoryHost(), in)
	in.Protected[0] = "changed"
	got, ok := SafetyPolicyOf(h)
	if !ok || got.Protected[0] != "x" || got.Actions[0] != ActionStart {
		t.Fatalf("SafetyPolicyOf = %+v, %v; want the policy as given, not shared", got, ok)
	}
}
