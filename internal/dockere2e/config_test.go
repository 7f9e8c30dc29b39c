package dockere2e

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"text/template"
)

// settings is the part of hemostatd's configuration a scenario tunes. The
// zero value of a field means the scenario default from newSettings.
type settings struct {
	// Monitor role.
	Interval  string // the docker monitor plugin's sampling interval
	Sustain   string
	Grace     string
	Realert   string
	CPUPct    float64
	MemoryPct float64
	// MonitorExtra is raw HCL added to the monitor section.
	MonitorExtra string

	// Threshold analyzer plugin.
	AnalyzerCPUPct    float64
	AnalyzerMemoryPct float64
	SpikeWindow       int
	// AnalyzerExtra is raw HCL added to the threshold plugin's config block.
	AnalyzerExtra string
	// AnalyzerFirst is raw HCL for plugin blocks placed before threshold
	// in the analyzer chain (the llm analyzer).
	AnalyzerFirst string

	// Responder role.
	Actions        []string
	Protected      []string
	DryRun         bool
	Cooldown       string
	BackoffInitial string
	BackoffMax     string
	BreakerMax     int
	VerifyTimeout  string
	// StartGrace is the docker responder's start_grace.
	StartGrace string

	// Responder disabled: the monitor and analyzer run alone.
	NoResponder bool
	// NoAnalyzer: the monitor runs alone (the detection benchmarks).
	NoAnalyzer bool

	// AlertExtra is raw HCL added to the alert section (alert plugins).
	AlertExtra string

	// HTTPToken, when set, is http.token: every page and API request then
	// needs it, as a bearer header or the login form's session cookie.
	HTTPToken string
	// Pprof serves hemostatd's runtime profiles (http.pprof).
	Pprof bool

	// LeaseTTL is lease.ttl; empty keeps the default.
	LeaseTTL string

	// Filled in by startDaemon.
	Redis    string
	HTTP     string
	Plugins  string
	Excludes []string
}

// newSettings returns the scenario defaults: everything fast, so that each
// scenario exercises exactly the rule it is about.
func newSettings() settings {
	return settings{
		Interval:          "1s",
		Sustain:           "2s",
		Grace:             "0s",
		Realert:           "1m",
		CPUPct:            85,
		MemoryPct:         90,
		AnalyzerCPUPct:    85,
		AnalyzerMemoryPct: 70,
		SpikeWindow:       6,
		Actions:           []string{"restart", "start", "unpause"},
		Protected:         []string{"hemostat*", "*redis*"},
		Cooldown:          "0s",
		BackoffInitial:    "1s",
		BackoffMax:        "4s",
		BreakerMax:        5,
		VerifyTimeout:     "30s",
		StartGrace:        "0s",
	}
}

var configTemplate = template.Must(template.New("hemostat.hcl").Funcs(template.FuncMap{
	"list": hclList,
	"num":  func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) },
}).Parse(`
log_level  = "debug"
plugin_dir = "{{.Plugins}}"
redis { address = "{{.Redis}}" }
http {
  address = "{{.HTTP}}"
{{- if .Pprof}}
  pprof   = true
{{- end}}
{{- if .HTTPToken}}
  token   = "{{.HTTPToken}}"
{{- end}}
}
{{- if .LeaseTTL}}
lease {
  ttl = "{{.LeaseTTL}}"
}
{{- end}}
monitor {
  cpu_pct    = {{num .CPUPct}}
  memory_pct = {{num .MemoryPct}}
  sustain    = "{{.Sustain}}"
  grace      = "{{.Grace}}"
  realert    = "{{.Realert}}"
{{.MonitorExtra}}
  plugin "docker" {
    config {
      interval = "{{.Interval}}"
      exclude  = {{list .Excludes}}
    }
  }
}
analyzer {
  enabled = {{not .NoAnalyzer}}
{{.AnalyzerFirst}}
  plugin "threshold" {
    config {
      cpu_pct            = {{num .AnalyzerCPUPct}}
      memory_pct         = {{num .AnalyzerMemoryPct}}
      spike_window       = {{.SpikeWindow}}
{{.AnalyzerExtra}}
    }
  }
}
responder {
  enabled        = {{not .NoResponder}}
  dry_run        = {{.DryRun}}
  actions        = {{list .Actions}}
  protected      = {{list .Protected}}
  cooldown       = "{{.Cooldown}}"
  backoff {
    initial     = "{{.BackoffInitial}}"
    max         = "{{.BackoffMax}}"
    reset_after = "10m"
  }
  breaker {
    max_actions = {{.BreakerMax}}
    window      = "1h"
  }
  plugin "docker" {
    config {
      stop_timeout   = "2s"
      verify_timeout = "{{.VerifyTimeout}}"
      start_grace    = "{{.StartGrace}}"
    }
  }
}
alert {
  dedupe_window = "0s"
{{.AlertExtra}}
}
`))

func (s settings) render(t testing.TB) string {
	t.Helper()
	var b bytes.Buffer
	if err := configTemplate.Execute(&b, s); err != nil {
		t.Fatalf("render config: %v", err)
	}
	return b.String()
}

func hclList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// scopeExcludes returns exclude globs (path.Match syntax) that match every
// container name not starting with prefix, so that a scenario's monitor
// reports its own containers only: a name differs from the prefix at some
// first position i, and the glob prefix[:i] + "[^c]*" catches it there.
// prefix must be letters and digits only, which need no escaping in a
// character class.
func scopeExcludes(prefix string) []string {
	globs := make([]string, 0, len(prefix))
	for i := range len(prefix) {
		globs = append(globs, prefix[:i]+"[^"+prefix[i:i+1]+"]*")
	}
	return globs
}
