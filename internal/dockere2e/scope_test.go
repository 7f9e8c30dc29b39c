package dockere2e

import (
	"path"
	"testing"
)

// TestScopeExcludes checks the globs that keep a scenario's monitor to its
// own containers: everything else on the shared engine must be excluded.
func TestScopeExcludes(t *testing.T) {
	const prefix = "hse2eab12"
	tests := []struct {
		name     string
		excluded bool
	}{
		{prefix + "crash", false},
		{prefix, false},
		{"hse2eab13crash", true},
		{"hse2ezz12crash", true},
		{"hemostat-redis", true},
		{"web", true},
		{"hm-bench-sample-1", true},
		{"Hse2eab12crash", true},
	}
	globs := scopeExcludes(prefix)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			excluded := false
			for _, g := range globs {
				ok, err := path.Match(g, tt.name)
				if err != nil {
					t.Fatalf("glob %q: %v", g, err)
				}
				excluded = excluded || ok
			}
			if excluded != tt.excluded {
				t.Errorf("excluded = %v, want %v (globs %q)", excluded, tt.excluded, globs)
			}
		})
	}
}
