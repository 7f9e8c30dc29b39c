package httpapi

import (
	"net/http"
	"time"
)

// Limits of every request. The stream alone is exempt from the handler
// timeout: it is meant to last; it has a write deadline per message.
const (
	maxRequestBody = 64 << 10
	handlerTimeout = 15 * time.Second
	streamPath     = "/api/v1/stream"
)

// limit bounds every request's body and, but for the stream, its
// handler's time: a slow Redis cannot pile up handlers.
func limit(next http.Handler) http.Handler {
	timed := http.TimeoutHandler(next, handlerTimeout, `{"error":"timeout"}`)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
		if r.URL.Path == streamPath {
			next.ServeHTTP(w, r)
			return
		}
		timed.ServeHTTP(w, r)
	})
}

// newHTTPServer sets the server-wide timeouts. There is no WriteTimeout,
// which would end the stream; the handler timeout bounds the rest.
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}
