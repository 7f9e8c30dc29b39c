package supervisor

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// baseEnv are the variables every plugin inherits from hemostatd: what a
// program needs to run (search path, home, locale, time zone, temporary
// directory, CA bundle), what the Docker client and the built-in monitor
// read, and the Go runtime's own settings. go-plugin adds its handshake
// variables. Nothing else is inherited — not REDIS_PASSWORD, not
// HEMOSTAT_TOKEN, not an LLM key: a secret reaches a plugin through its own
// config block, or through a variable the block names in env.
var baseEnv = []string{
	"PATH", "HOME", "USER", "LOGNAME", "HOSTNAME", "TZ", "TMPDIR",
	"LANG", "LANGUAGE", "LC_ALL",
	"SSL_CERT_FILE", "SSL_CERT_DIR",
	"DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_API_VERSION",
	"GOCOVERDIR", "GODEBUG", "GOGC", "GOMAXPROCS", "GOMEMLIMIT", "GORACE", "GOTRACEBACK",
	// sdk.ProfileEnv: where plugins write their CPU profiles, when asked.
	"HEMOSTAT_PLUGIN_PROFILE_DIR",
}

// basePrefixes are inherited whole: the locale categories.
var basePrefixes = []string{"LC_"}

// envName is a portable environment variable name.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ValidEnvName reports why name cannot be passed to a plugin, or "".
func ValidEnvName(name string) string {
	if !envName.MatchString(name) {
		return fmt.Sprintf("%q is not an environment variable name", name)
	}
	return ""
}

// pluginEnv picks from environ (os.Environ()) the variables a plugin
// starts with: baseEnv, the LC_ categories and the names in extra.
func pluginEnv(environ, extra []string) []string {
	var out []string
	for _, kv := range environ {
		name, _, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		if slices.Contains(baseEnv, name) || slices.Contains(extra, name) ||
			slices.ContainsFunc(basePrefixes, func(p string) bool { return strings.HasPrefix(name, p) }) {
			out = append(out, kv)
		}
	}
	return out
}
