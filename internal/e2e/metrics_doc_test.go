package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/hemostat/hemostat/internal/testenv"
)

// exported scrapes a freshly started hemostatd's /metrics, before any
// event: every family it exports must be there now, at 0, not with its
// first increment.
func exported(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	d := startDaemon(t, testenv.StartRedis(t), baseConfig)
	resp, err := http.Get("http://" + d.HTTPAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return families
}

// documentedRow is a row of the README's metrics table: `name` | labels.
var documentedRow = regexp.MustCompile("(?m)^\\s*\\| `(hemostat_[a-z_]+)` \\|([^|]*)\\|")

// TestMetricsDocumentedFromStart: the README's metrics table and what
// /metrics exports at start are the same families with the same labels.
func TestMetricsDocumentedFromStart(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string][]string{}
	for _, m := range documentedRow.FindAllStringSubmatch(string(readme), -1) {
		var labels []string
		for _, l := range regexp.MustCompile("`([a-z_]+)`").FindAllStringSubmatch(m[2], -1) {
			labels = append(labels, l[1])
		}
		slices.Sort(labels)
		documented[m[1]] = labels
	}
	if len(documented) < 20 {
		t.Fatalf("found only %d rows in the README's metrics table; has its format changed?", len(documented))
	}
	families := exported(t)
	for name, labels := range documented {
		f, ok := families[name]
		if !ok || len(f.GetMetric()) == 0 {
			t.Errorf("%s is documented but not exported at start", name)
			continue
		}
		var got []string
		for _, lp := range f.GetMetric()[0].GetLabel() {
			got = append(got, lp.GetName())
		}
		slices.Sort(got)
		if !slices.Equal(got, labels) {
			t.Errorf("%s has labels %v; the README says %v", name, got, labels)
		}
	}
	for name := range families {
		if strings.HasPrefix(name, "hemostat_") {
			if _, ok := documented[name]; !ok {
				t.Errorf("%s is exported but not in the README's metrics table", name)
			}
		}
	}
}

// TestGrafanaDashboardMetrics: every PromQL expression of the Grafana
// dashboard in deploy/ names only metrics hemostatd exports.
func TestGrafanaDashboardMetrics(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash any
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("deploy/grafana-dashboard.json: %v", err)
	}
	var exprs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && (k == "expr" || k == "query") {
					exprs = append(exprs, s)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(dash)
	if len(exprs) < 8 {
		t.Fatalf("found %d expressions in the dashboard, want its panels' (8 or more)", len(exprs))
	}
	families := exported(t)
	metric := regexp.MustCompile(`\b(hemostat_[a-z_]+|process_[a-z_]+|go_[a-z_]+)\b`)
	for _, e := range exprs {
		names := metric.FindAllString(e, -1)
		if len(names) == 0 {
			t.Errorf("expression %q names no hemostatd metric", e)
		}
		for _, n := range names {
			base := n
			if _, ok := families[base]; !ok {
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					base = strings.TrimSuffix(base, suffix)
				}
			}
			if f, ok := families[base]; !ok || (base != n && f.GetType() != dto.MetricType_HISTOGRAM) {
				t.Errorf("expression %q names %s, which hemostatd does not export", e, n)
			}
		}
	}
}
