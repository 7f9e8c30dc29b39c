package httpapi

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func dashboardMux() *http.ServeMux {
	mux := http.NewServeMux()
	(&Server{}).routeDashboard(mux)
	return mux
}

func serve(t *testing.T, mux http.Handler, path string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	return rec
}

func TestDashboardAssets(t *testing.T) {
	mux := dashboardMux()
	cases := []struct {
		path   string
		status int
		ctype  string
		body   string
	}{
		{"/", 200, "text/html", `<script src="/assets/app.js"`},
		{"/login", 200, "text/html", `action="/login"`},
		{"/assets/app.js", 200, "javascript", "EventSource"},
		{"/assets/app.css", 200, "text/css", ".card"},
		{"/assets/uPlot.iife.min.js", 200, "javascript", "uPlot (v1.6.32)"},
		{"/assets/uPlot.min.css", 200, "text/css", ".uplot"},
		{"/assets/favicon.svg", 200, "image/svg+xml", "<svg"},
		{"/assets/nope.js", 404, "text/plain", ""},
		{"/assets/..%2fdashboard.go", 404, "", ""},
	}
	for _, c := range cases {
		rec := serve(t, mux, c.path, nil)
		if rec.Code != c.status {
			t.Errorf("GET %s: %d, want %d", c.path, rec.Code, c.status)
			continue
		}
		if rec.Code != http.StatusOK {
			continue
		}
		if ct := rec.Header().Get("Content-Type"); !strings.Contains(ct, c.ctype) {
			t.Errorf("GET %s: Content-Type %q, want %q", c.path, ct, c.ctype)
		}
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'self'") {
			t.Errorf("GET %s: Content-Security-Policy %q", c.path, csp)
		}
		if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no nosniff", c.path)
		}
		if !strings.Contains(rec.Body.String(), c.body) {
			t.Errorf("GET %s: body lacks %q", c.path, c.body)
		}
	}
}

// TestDashboardRevalidates: a reload costs a 304, and a changed file (a new
// hemostatd) a new ETag, so the browser never keeps a stale app.js.
func TestDashboardRevalidates(t *testing.T) {
	mux := dashboardMux()
	first := serve(t, mux, "/assets/app.js", nil)
	etag := first.Header().Get("ETag")
	if etag == "" || first.Header().Get("Cache-Control") != "no-cache" {
		t.Fatalf("ETag %q, Cache-Control %q", etag, first.Header().Get("Cache-Control"))
	}
	again := serve(t, mux, "/assets/app.js", http.Header{"If-None-Match": {etag}})
	if again.Code != http.StatusNotModified || again.Body.Len() != 0 {
		t.Fatalf("revalidation: %d with %d bytes, want 304 and none", again.Code, again.Body.Len())
	}
	if other := serve(t, mux, "/assets/app.css", nil).Header().Get("ETag"); other == etag {
		t.Fatalf("app.css and app.js share the ETag %s", etag)
	}
}

// TestDashboardPagesObeyTheirPolicy checks what the CSP would otherwise
// break at run time: no inline script or event handler attribute in the
// HTML, every local reference embedded, nothing loaded from elsewhere, and
// no innerHTML in the script (text goes in as text).
func TestDashboardPagesObeyTheirPolicy(t *testing.T) {
	inline := regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>\s*[^<\s]|\son[a-z]+\s*=|javascript:`)
	ref := regexp.MustCompile(`(?:src|href)="([^"]+)"`)
	for _, page := range []string{"index.html", "login.html"} {
		body := string(assets[page].body)
		if m := inline.FindString(body); m != "" {
			t.Errorf("%s: inline script %q", page, m)
		}
		for _, m := range ref.FindAllStringSubmatch(body, -1) {
			u := m[1]
			switch {
			case strings.HasPrefix(u, "/assets/"):
				if _, ok := assets[strings.TrimPrefix(u, "/assets/")]; !ok {
					t.Errorf("%s references %s, which is not embedded", page, u)
				}
			case strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//"):
				// an API or metrics link
			default:
				t.Errorf("%s references %s outside this origin", page, u)
			}
		}
	}
	if js := string(assets["app.js"].body); strings.Contains(js, ".innerHTML") || strings.Contains(js, "insertAdjacentHTML") || strings.Contains(js, "document.write") {
		t.Error("app.js writes markup; build elements and set textContent instead")
	}
	for _, must := range []string{`name="viewport"`, `lang="en"`} {
		if !strings.Contains(string(assets["index.html"].body), must) {
			t.Errorf("index.html lacks %s", must)
		}
	}
}
