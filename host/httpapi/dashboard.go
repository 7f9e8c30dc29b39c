package httpapi

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"time"
)

// assetFS holds the dashboard: HTML, script, styles and the vendored uPlot.
// Embedded, so the page needs no CDN and no build step, and a hemostatd
// binary always serves the page that matches its API.
//
//go:embed assets
var assetFS embed.FS

// contentSecurityPolicy allows scripts from this origin only, so a
// container name or an alert reason that reaches the page as text can never
// run as code even if a rendering bug let it into the markup. Inline styles
// stay allowed: uPlot sizes its canvases with them.
const contentSecurityPolicy = "default-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// asset is one embedded file with what its responses need, computed once.
type asset struct {
	body        []byte
	etag        string
	contentType string
}

// assets maps a file name under assets/ to its content. Loading every file
// at start turns a broken embed into a panic at init, not a 404 in a
// browser, and gives each file an ETag so a reload revalidates cheaply.
var assets = loadAssets()

func loadAssets() map[string]asset {
	files := map[string]asset{}
	err := fs.WalkDir(assetFS, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := assetFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ctype := mime.TypeByExtension(path.Ext(p))
		if ctype == "" {
			ctype = http.DetectContentType(body)
		}
		files[path.Base(p)] = asset{body: body, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, contentType: ctype}
		return nil
	})
	if err != nil {
		panic("httpapi: embedded assets: " + err.Error())
	}
	return files
}

// routeDashboard serves the page at /, its files under /assets/ and the
// token form at GET /login (the form posts to POST /login, which sets the
// session cookie).
func (s *Server) routeDashboard(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", serveAsset("index.html"))
	mux.HandleFunc("GET /login", serveAsset("login.html"))
	mux.HandleFunc("GET /assets/{file}", func(w http.ResponseWriter, r *http.Request) {
		serveAsset(r.PathValue("file"))(w, r)
	})
}

// serveAsset answers with the named embedded file, or 404 for a name not
// embedded (README.md and the licence are served too: they are public).
func serveAsset(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, ok := assets[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.contentType)
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		// Revalidate every time: an upgraded hemostatd must not run
		// yesterday's app.js against today's API. The ETag makes that a 304.
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", a.etag)
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.body))
	}
}
