package dockerresponder

import (
	"encoding/json"
	"fmt"
	"time"
)

// Duration is a config duration: a Go duration string ("90s", "1m30s") or
// a number of seconds.
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// UnmarshalJSON accepts "10s" or 10.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	switch v := v.(type) {
	case float64:
		*d = Duration(v * float64(time.Second))
		return nil
	case string:
		parsed, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%q is not a duration (use a number of seconds or a string like \"30s\")", v)
		}
		*d = Duration(parsed)
		return nil
	default:
		return fmt.Errorf("%s is not a duration (use a number of seconds or a string like \"30s\")", b)
	}
}

// MarshalJSON writes the duration as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(d.Std().String())
}
