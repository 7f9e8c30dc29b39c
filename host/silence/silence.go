package silence

import (
	"github.com/hemostat/hemostat/host/protocol"

	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"
)

// Silence mutes notifications about containers whose name matches
// Container (a path.Match glob such as "batch-*"), of one event type or
// kind when Event is set, until Ends.
type Silence struct {
	ID        string `json:"id"`
	Container string `json:"container"`
	// Event is an envelope type (remediation_complete, false_alarm,
	// escalation) or a notification kind (remediation_failed,
	// escalation_breaker, …); empty matches every one.
	Event   string    `json:"event,omitempty"`
	Ends    time.Time `json:"ends_at"`
	Comment string    `json:"comment,omitempty"`
	// CreatedBy says where the silence came from: config, cli, api.
	CreatedBy string    `json:"created_by,omitempty"`
	Created   time.Time `json:"created_at"`
	// Silenced counts the notifications the silence held back; filled in
	// by List.
	Silenced int64 `json:"silenced"`
}

// Active reports whether the silence still mutes at now.
func (s Silence) Active(now time.Time) bool { return now.Before(s.Ends) }

// Matches reports whether the silence mutes a notification about
// container with the given envelope type and kind at now.
func (s Silence) Matches(now time.Time, container, eventType, kind string) bool {
	if !s.Active(now) {
		return false
	}
	if s.Event != "" && s.Event != eventType && s.Event != kind {
		return false
	}
	// In a fleet "batch-*" silences batch-1 on every host, and
	// "rack-1/batch-1" one host's.
	return protocol.MatchContainer(s.Container, container)
}

// ErrNotFound is returned for an id no silence has.
var ErrNotFound = errors.New("no such silence")

// Validate checks a silence before it is stored; events lists the event
// types and kinds Event may name.
func (s Silence) Validate(now time.Time, events []string) error {
	var problems []string
	if strings.TrimSpace(s.Container) == "" {
		problems = append(problems, "container: a name or glob pattern is required")
	} else if _, err := path.Match(s.Container, ""); err != nil {
		problems = append(problems, fmt.Sprintf("container: %q is not a valid glob pattern", s.Container))
	}
	if s.Event != "" && !slices.Contains(events, s.Event) {
		problems = append(problems, fmt.Sprintf("event: %q is neither an event type nor a notification kind", s.Event))
	}
	if s.Ends.IsZero() {
		problems = append(problems, "ends_at: an end time is required")
	} else if !s.Ends.After(now) {
		problems = append(problems, fmt.Sprintf("ends_at: %s is not in the future", s.Ends.UTC().Format(time.RFC3339)))
	}
	if len(s.Comment) > 1024 {
		problems = append(problems, "comment: longer than 1024 bytes")
	}
	if len(problems) > 0 {
		return fmt.Errorf("invalid silence: %s", strings.Join(problems, "; "))
	}
	return nil
}

// newID is a random id, short enough to type.
func newID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
