package httpapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"
)

// SessionCookie is the cookie POST /login sets, so that a browser can use
// the dashboard off loopback without sending a header.
const SessionCookie = "hemostat_session"

// maxLoginBody bounds the login form: a token field and nothing else.
const maxLoginBody = 4 << 10

// sessionValue is the cookie's value for token: a MAC of a fixed label,
// so the token itself is never stored in the browser, and a changed
// token ends every session.
func sessionValue(token string) string {
	mac := hmac.New(sha256.New, []byte(token))
	mac.Write([]byte("hemostat dashboard session v1"))
	return hex.EncodeToString(mac.Sum(nil))
}

// public paths need no token: the probes, the login form and the static
// files it uses.
func public(r *http.Request) bool {
	p := r.URL.Path
	return p == "/healthz" || p == "/readyz" || p == "/login" || strings.HasPrefix(p, "/assets/")
}

// authorize asks every other request for the token, as a bearer header or
// the session cookie, both compared in constant time. A page request
// without it is sent to the login form; any other gets 401.
func (s *Server) authorize(next http.Handler) http.Handler {
	if s.opts.Token == "" {
		return next
	}
	bearer := []byte("Bearer " + s.opts.Token)
	session := []byte(sessionValue(s.opts.Token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if public(r) || s.authorized(r, bearer, session) {
			next.ServeHTTP(w, r)
			return
		}
		if r.Method == http.MethodGet && strings.Contains(r.Header.Get("Accept"), "text/html") {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="hemostat"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	})
}

func (s *Server) authorized(r *http.Request, bearer, session []byte) bool {
	if h := r.Header.Get("Authorization"); h != "" && subtle.ConstantTimeCompare([]byte(h), bearer) == 1 {
		return true
	}
	c, err := r.Cookie(SessionCookie)
	return err == nil && subtle.ConstantTimeCompare([]byte(c.Value), session) == 1
}

// login checks the form's token and sets the session cookie: HttpOnly, so
// no script reads it, and SameSite=Strict, so no other site's form or
// link carries it.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginBody)
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid login form"})
		return
	}
	if s.opts.Token == "" {
		http.Redirect(w, r, "/", http.StatusSeeOther) // nothing to log in to
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.PostFormValue("token")), []byte(s.opts.Token)) != 1 {
		s.opts.Logger.Warn("login refused: wrong token", "remote", r.RemoteAddr)
		http.Redirect(w, r, "/login?failed=1", http.StatusSeeOther)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: sessionValue(s.opts.Token), Path: "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}
