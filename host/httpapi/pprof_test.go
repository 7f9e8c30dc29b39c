package httpapi

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/client_golang/prometheus"
)

// TestPprof: the profiles are served only when asked for, and only with
// the token.
func TestPprof(t *testing.T) {
	for _, on := range []bool{false, true} {
		s, err := Listen(Options{Address: "127.0.0.1:0", Token: "s3cret", Logger: hclog.NewNullLogger(), Gatherer: prometheus.NewRegistry(), Pprof: on})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Serve(ctx) }()
		base := "http://" + s.Addr()
		want := http.StatusNotFound
		if on {
			want = http.StatusOK
		}
		if code, body := get(t, base+"/debug/pprof/goroutine?debug=1", "s3cret"); code != want || (on && !strings.Contains(body, "goroutine profile")) {
			t.Errorf("pprof %v: GET goroutine profile = %d, want %d", on, code, want)
		}
		if code, _ := get(t, base+"/debug/pprof/goroutine?debug=1", ""); code != http.StatusUnauthorized {
			t.Errorf("pprof %v: without the token = %d, want 401", on, code)
		}
		if code, _ := get(t, base+"/metrics", "s3cret"); code != http.StatusOK {
			t.Errorf("pprof %v: /metrics = %d, want 200", on, code)
		}
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
