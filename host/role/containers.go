package role

import (
	"strings"
	"sync"

	"github.com/hemostat/hemostat/sdk"
)

// minIDPrefix is the shortest ID prefix taken as naming a container: the
// length of the short IDs the engine prints.
const minIDPrefix = 12

// Containers maps the container IDs the monitor reports to their names, so
// that a request giving an ID or an ID prefix is judged by the gate as the
// container it names. It is safe for concurrent use.
type Containers struct {
	mu   sync.RWMutex
	byID map[string]string // full ID → name
}

// NewContainers returns an empty index.
func NewContainers() *Containers {
	return &Containers{byID: map[string]string{}}
}

// Observe notes a sample's ID and name; a destroyed container is dropped.
func (c *Containers) Observe(s sdk.Sample) {
	if s.ID == "" || s.Container == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.Event == sdk.EventDestroy {
		delete(c.byID, s.ID)
		return
	}
	c.byID[s.ID] = strings.TrimPrefix(s.Container, "/")
}

// Resolve returns the name of the container ref names: a known name is
// itself, a full ID or an unambiguous ID prefix of at least 12 hex digits
// is the container's name. ok is false when ref resolves to nothing known.
func (c *Containers) Resolve(ref string) (name string, ok bool) {
	if c == nil || ref == "" {
		return "", false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	bare := strings.TrimPrefix(ref, "/")
	if n, found := c.byID[ref]; found {
		return n, true
	}
	for _, n := range c.byID {
		if n == bare {
			return n, true
		}
	}
	if len(ref) < minIDPrefix || !isLowerHex(ref) {
		return "", false
	}
	for id, n := range c.byID {
		if strings.HasPrefix(id, ref) {
			if name != "" && name != n {
				return "", false // ambiguous
			}
			name = n
		}
	}
	return name, name != ""
}

func isLowerHex(s string) bool {
	for _, r := range s {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') {
			return false
		}
	}
	return true
}
