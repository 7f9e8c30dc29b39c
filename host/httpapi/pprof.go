package httpapi

import (
	"net/http"
	"net/http/pprof"
)

// routePprof serves Go's runtime profiles under /debug/pprof/ when the
// config asks for them (http { pprof = true }): they are how a slow burst
// is explained, and they cost nothing until fetched. They sit behind the
// token like the rest, and outside the handler timeout, since a CPU
// profile lasts as long as it is asked to.
func routePprof(mux *http.ServeMux) {
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
}
