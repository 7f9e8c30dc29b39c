// Package delivery classifies the answer of an HTTP service an alert plugin
// posts to, into what hemostatd should do about it: done, retry after the
// wait the service asked for (429 Retry-After), retry with backoff (5xx,
// 408, the network), or give up (any other 4xx). It also keeps URLs out of
// errors: a webhook URL is a credential.
package delivery

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hemostat/hemostat/sdk"
)

// DefaultRetryAfter is the wait assumed for a 429 without a usable
// Retry-After.
const DefaultRetryAfter = 30 * time.Second

// Classify turns a response into nil (2xx) or an error marked for the
// host's retry policy. what names the service in the message ("webhook",
// "slack"); detail is a short, secret-free excerpt of the body.
func Classify(what string, resp *http.Response, detail string, now time.Time) error {
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return nil
	}
	msg := fmt.Sprintf("%s answered %s", what, resp.Status)
	if detail = strings.TrimSpace(detail); detail != "" {
		msg += ": " + detail
	}
	err := errors.New(msg)
	switch {
	case code == http.StatusTooManyRequests:
		return sdk.RetryAfter(err, RetryAfter(resp.Header.Get("Retry-After"), now))
	case code == http.StatusRequestTimeout || code >= 500:
		return err
	}
	return sdk.Permanent(err)
}

// RetryAfter reads a Retry-After header: seconds or an HTTP date;
// DefaultRetryAfter when absent or unreadable.
func RetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if secs, err := strconv.Atoi(h); err == nil && secs >= 0 {
		return max(time.Duration(secs)*time.Second, time.Second)
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(t.Sub(now), time.Second)
	}
	return DefaultRetryAfter
}

// Transport redacts a failed request's error: *url.Error prints the whole
// URL, and a webhook URL carries its secret in the path.
func Transport(what string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("%s: %w", what, err)
}

// Snippet is at most n bytes of a body, on one line, for an error message.
func Snippet(body []byte, n int) string {
	s := strings.Join(strings.Fields(string(body)), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

// CheckURL checks a URL to post to, without echoing it: it may hold a
// secret.
func CheckURL(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "is not a valid URL"
	case u.Scheme != "http" && u.Scheme != "https":
		return "must be an http:// or https:// URL"
	case u.Host == "":
		return "has no host"
	}
	return ""
}
