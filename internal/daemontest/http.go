package daemontest

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"testing"
)

// FreeAddr returns a loopback address with a port that was free a moment
// ago, for a hemostatd's http block.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// healthy reports whether /healthz answers 200.
func (d *Daemon) healthy() bool {
	resp, err := http.Get("http://" + d.http + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// PluginStatus is the part of a plugin's entry in /api/v1/status the tests
// read.
type PluginStatus struct {
	Role     string `json:"role"`
	Name     string `json:"name"`
	PID      int    `json:"pid"`
	State    string `json:"state"`
	Restarts int    `json:"restarts"`
	// LastError is why the plugin last failed.
	LastError string `json:"last_error"`
}

// HTTPAddr is the address hemostatd's HTTP server listens on.
func (d *Daemon) HTTPAddr() string { return d.http }

// Plugins returns the plugins /api/v1/status reports.
func (d *Daemon) Plugins(t testing.TB) []PluginStatus {
	t.Helper()
	resp, err := http.Get("http://" + d.http + "/api/v1/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		Plugins []PluginStatus `json:"plugins"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatalf("decode /api/v1/status: %v", err)
	}
	return st.Plugins
}

// Metrics returns the text of /metrics.
func (d *Daemon) Metrics(t testing.TB) string {
	t.Helper()
	resp, err := http.Get("http://" + d.http + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read /metrics: %v", err)
	}
	return string(b)
}
