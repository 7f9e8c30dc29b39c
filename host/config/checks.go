package config

import (
	"encoding/hex"
	"fmt"
	"net"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hemostat/hemostat/host/protocol"
)

// Range checks for the typed getters of section. Each returns what is wrong
// with a value, or "".

func between(lo, hi float64) check[float64] {
	return func(f float64) string {
		if f < lo || f > hi {
			return fmt.Sprintf("%v is outside [%v, %v]", f, lo, hi)
		}
		return ""
	}
}

var (
	percent    = between(0, 100)
	confidence = between(0, 1)
)

func atLeast(min int) check[int] {
	return func(i int) string {
		if i < min {
			return fmt.Sprintf("must be at least %d, got %d", min, i)
		}
		return ""
	}
}

func atMost(max int) check[int] {
	return func(i int) string {
		if i > max {
			return fmt.Sprintf("must be at most %d, got %d", max, i)
		}
		return ""
	}
}

func positive(d time.Duration) string {
	if d <= 0 {
		return fmt.Sprintf("must be positive, got %q", d.String())
	}
	return ""
}

func nonNegative(d time.Duration) string {
	if d < 0 {
		return fmt.Sprintf("must not be negative, got %q", d.String())
	}
	return ""
}

func oneOf(allowed ...string) check[string] {
	return func(s string) string {
		if !slices.Contains(allowed, s) {
			return fmt.Sprintf("%q is not one of %s", s, quoteList(allowed))
		}
		return ""
	}
}

// eachOneOf checks every element of a list, as oneOf does.
func eachOneOf(allowed ...string) check[[]string] {
	one := oneOf(allowed...)
	return func(list []string) string {
		for _, s := range list {
			if msg := one(s); msg != "" {
				return msg
			}
		}
		return ""
	}
}

func nonEmptyElements(list []string) string {
	for i, s := range list {
		if strings.TrimSpace(s) == "" {
			return fmt.Sprintf("element %d is empty", i)
		}
	}
	return ""
}

func uniqueElements(list []string) string {
	for i, s := range list {
		if slices.Contains(list[:i], s) {
			return fmt.Sprintf("%q is listed twice", s)
		}
	}
	return ""
}

// globs checks patterns with path.Match's syntax.
func globs(list []string) string {
	for _, p := range list {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Sprintf("%q is not a valid glob pattern", p)
		}
	}
	return ""
}

// glob checks one pattern with path.Match's syntax.
func glob(p string) string { return globs([]string{p}) }

// rfc3339 checks a time such as "2027-01-31T18:00:00Z".
func rfc3339(s string) string {
	if _, err := time.Parse(time.RFC3339, s); err != nil {
		return fmt.Sprintf("%q is not an RFC 3339 time such as \"2027-01-31T18:00:00Z\"", s)
	}
	return ""
}

// hostPort checks an address to connect to: host:port with a port in
// 1–65535.
func hostPort(addr string) string { return checkHostPort(addr, 1) }

// listenAddr checks an address to listen on, where port 0 asks for any free
// port.
func listenAddr(addr string) string { return checkHostPort(addr, 0) }

func checkHostPort(addr string, minPort int) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Sprintf("%q is not a host:port address", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < minPort || n > 65535 {
		return fmt.Sprintf("%q has an invalid port %q", addr, port)
	}
	return ""
}

func hostPorts(list []string) string {
	for _, a := range list {
		if msg := hostPort(a); msg != "" {
			return msg
		}
	}
	return ""
}

// isLoopback is whether a host:port address listens on loopback only.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func sha256Hex(s string) string {
	if len(s) != 64 {
		return fmt.Sprintf("a sha256 checksum is 64 hexadecimal characters, got %d", len(s))
	}
	if _, err := hex.DecodeString(s); err != nil {
		return fmt.Sprintf("%q is not hexadecimal", s)
	}
	return ""
}

// pluginName keeps names usable in a file name: hemostat-<role>-<name>.
func pluginName(s string) string {
	if s == "" {
		return "a plugin name must not be empty"
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Sprintf("plugin name %q may contain only letters, digits, '-', '_' and '.'", s)
		}
	}
	if s[0] == '.' || s[0] == '-' {
		return fmt.Sprintf("plugin name %q must start with a letter or a digit", s)
	}
	return ""
}

func quoteList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// hostName checks a daemon's host name: it ends up in container names and
// Redis keys.
func hostName(host string) string {
	if err := protocol.CheckHostName(host); err != nil {
		return err.Error()
	}
	return ""
}
