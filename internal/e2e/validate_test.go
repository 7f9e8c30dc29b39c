package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateReportsPositions runs `hemostatd validate` on broken files:
// HCL errors and a plugin's own Configure errors both come back as
// file:line:col, and a good file passes. The llm analyzer's block is
// checked like any other: an unknown provider, a missing model and an
// action the responder does not allow are each an error at their key.
func TestValidateReportsPositions(t *testing.T) {
	bin, pluginDir := build(t)
	for _, tc := range []struct {
		name, config string
		want         []string // substrings of stderr, in order
	}{
		{
			name: "plugin rejects its settings",
			config: `plugin_dir = "` + pluginDir + `"
monitor { enabled = false }
responder { enabled = false }
analyzer {
  plugin "threshold" {
    config {
      cpu_pct = 150
      bogus   = true
    }
  }
}
`,
			want: []string{"hemostat.hcl:8:7: ", "bogus: unknown setting"},
		},
		{
			name: "plugin rejects a value",
			config: `plugin_dir = "` + pluginDir + `"
monitor { enabled = false }
responder { enabled = false }
analyzer {
  plugin "threshold" {
    config {
      cpu_pct = -5
    }
  }
}
`,
			want: []string{"hemostat.hcl:7:7: ", "cpu_pct"},
		},
		{
			name: "llm: unknown provider",
			config: `plugin_dir = "` + pluginDir + `"
monitor { enabled = false }
responder { enabled = false }
analyzer {
  plugin "llm" {
    config {
      provider = "gemini"
      model    = "m"
    }
  }
  plugin "threshold" {}
}
`,
			want: []string{"hemostat.hcl:7:7: ", "provider", `unknown provider "gemini"`},
		},
		{
			// A key that is not written is placed at its plugin block.
			name: "llm: missing model",
			config: `plugin_dir = "` + pluginDir + `"
monitor { enabled = false }
responder { enabled = false }
analyzer {
  plugin "llm" {
    config {
      provider = "openai"
    }
  }
  plugin "threshold" {}
}
`,
			want: []string{"hemostat.hcl:5:3: ", "model", "is required"},
		},
		{
			name: "llm: action outside the responder's allowlist",
			config: `plugin_dir = "` + pluginDir + `"
monitor { enabled = false }
responder { actions = ["restart", "start"] }
analyzer {
  plugin "llm" {
    config {
      model   = "m"
      actions = ["restart", "stop"]
    }
  }
  plugin "threshold" {}
}
`,
			want: []string{"hemostat.hcl:8:7: ", "actions", `"stop" is outside the responder's allowlist (restart, start)`},
		},
		{
			name:   "unknown key",
			config: "monitor {\n  cpu_pcnt = 90\n}\n",
			want:   []string{"hemostat.hcl:2:3: ", "cpu_pcnt"},
		},
		{
			name:   "bad duration",
			config: "monitor {\n  sustain = \"soon\"\n}\n",
			want:   []string{"hemostat.hcl:2:13: ", "sustain"},
		},
		{
			name:   "unknown plugin",
			config: "plugin_dir = \"" + pluginDir + "\"\nanalyzer {\n  plugin \"oracle\" {}\n}\n",
			want:   []string{"hemostat.hcl:3:3: ", "oracle"},
		},
		{
			name:   "syntax error",
			config: "monitor {\n  cpu_pct = \n",
			want:   []string{"hemostat.hcl:"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "hemostat.hcl")
			if err := os.WriteFile(path, []byte(tc.config), 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(bin, "validate", "-config", path).CombinedOutput()
			if err == nil {
				t.Fatalf("validate accepted a broken file:\n%s", out)
			}
			rest := strings.ReplaceAll(string(out), path, "hemostat.hcl")
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("output lacks %q:\n%s", w, out)
				}
				rest = rest[i+len(w):]
			}
		})
	}

	t.Run("sample config", func(t *testing.T) {
		out, err := exec.Command(bin, "validate", "-config", "../../hemostat.hcl").CombinedOutput()
		if err != nil {
			t.Fatalf("the sample hemostat.hcl does not validate: %v\n%s", err, out)
		}
	})
}
