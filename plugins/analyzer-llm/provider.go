package llm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"
)

// completion is one answer of a model.
type completion struct {
	// Text is the model's answer: a JSON object, or text that holds one.
	Text string
	// Tokens is what the call cost, input and output, as the server
	// reported it (an estimate when it did not).
	Tokens int
}

// provider sends one prompt to a model. Implementations make exactly one
// HTTP request per attempt, never retry on their own, and return a
// *callError for every failure.
type provider interface {
	complete(ctx context.Context, p prompt) (completion, error)
}

// Failure kinds, as they appear in a decision's fallback reason.
const (
	failTimeout     = "timeout"
	failUnreachable = "unreachable"
	failAuth        = "auth"
	failNotFound    = "not_found"
	failRateLimited = "rate_limited"
	failServer      = "server_error"
	failRequest     = "bad_request"
	failReply       = "bad_reply"
)

// callError is a failed call to a model.
type callError struct {
	Kind   string
	Status int // HTTP status, 0 without one
	// RetryAfter is the server's Retry-After on a 429, 0 when absent.
	RetryAfter time.Duration
	Err        error
}

func (e *callError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("%s (HTTP %d): %v", e.Kind, e.Status, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Kind, e.Err)
}

func (e *callError) Unwrap() error { return e.Err }

// countsAgainstBreaker says whether the failure says the model is not
// usable now. A reply that could not be used is the model's fault for that
// alert, not a sign that the next call will fail.
func (e *callError) countsAgainstBreaker() bool {
	return e.Kind != failReply && e.Kind != failRateLimited
}

// classifyHTTP turns an HTTP error status into a callError.
func classifyHTTP(status int, header http.Header, msg string, now time.Time) *callError {
	e := &callError{Status: status, Err: errors.New(msg)}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		e.Kind = failAuth
	case status == http.StatusNotFound:
		e.Kind = failNotFound
	case status == http.StatusTooManyRequests:
		e.Kind = failRateLimited
		e.RetryAfter = retryAfter(header, now)
	case status >= 500:
		e.Kind = failServer
	default:
		e.Kind = failRequest
	}
	return e
}

// classifyTransport turns an error without an HTTP status into a
// callError.
func classifyTransport(ctx context.Context, err error) *callError {
	switch {
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
		return &callError{Kind: failTimeout, Err: errors.New("no answer before the deadline")}
	case errors.Is(err, syscall.ECONNREFUSED):
		return &callError{Kind: failUnreachable, Err: errors.New("connection refused")}
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return &callError{Kind: failTimeout, Err: err}
	}
	var opErr *net.OpError
	var dnsErr *net.DNSError
	if errors.As(err, &opErr) || errors.As(err, &dnsErr) {
		return &callError{Kind: failUnreachable, Err: err}
	}
	return &callError{Kind: failReply, Err: err}
}

// retryAfter reads a Retry-After header in seconds or as an HTTP date.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil && secs > 0 {
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// newHTTPClient is the client both SDKs use. It has no overall timeout:
// each call's context is its deadline.
func newHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   5 * time.Second,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 0,
	}}
}
