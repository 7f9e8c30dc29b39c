package webhook

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/hemostat/hemostat/plugins/internal/delivery"
	"github.com/hemostat/hemostat/sdk"
)

// Config is the plugin's config block.
type Config struct {
	// URL receives the POSTs. It is a credential: never logged.
	URL string `json:"url"`
	// Secret signs each request (HMAC-SHA256); empty sends them unsigned.
	Secret string `json:"secret"`
	// Headers are added to every request, for a receiver's own auth.
	Headers map[string]string `json:"headers"`
}

// ParseConfig decodes and checks a config block; every problem is reported
// at its key.
func ParseConfig(raw json.RawMessage) (Config, error) {
	var c Config
	if err := sdk.DecodeConfig(raw, &c); err != nil {
		return Config{}, err
	}
	var errs sdk.ConfigErrors
	if c.URL == "" {
		errs = append(errs, sdk.ConfigError{Key: "url", Message: "is required"})
	} else if msg := delivery.CheckURL(c.URL); msg != "" {
		errs = append(errs, sdk.ConfigError{Key: "url", Message: msg})
	}
	for name := range c.Headers {
		canon := http.CanonicalHeaderKey(name)
		switch {
		case name == "" || strings.ContainsAny(name, " :\r\n\t"):
			errs = append(errs, sdk.ConfigError{Key: "headers", Message: "a header name is empty or has a space, colon or line break"})
		case canon == "Content-Type" || canon == "Content-Length" || canon == "Host" || strings.HasPrefix(canon, "X-Hemostat-"):
			errs = append(errs, sdk.ConfigError{Key: "headers", Message: canon + " is set by the plugin"})
		case strings.ContainsAny(c.Headers[name], "\r\n"):
			errs = append(errs, sdk.ConfigError{Key: "headers", Message: "the value of " + canon + " has a line break"})
		}
	}
	if len(errs) > 0 {
		return Config{}, errs
	}
	return c, nil
}
