package llm

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hemostat/hemostat/sdk"
)

// reuseCache keeps the last decision per container, so that an identical
// alert within the window is answered without calling the model again.
type reuseCache struct {
	mu     sync.Mutex
	window time.Duration
	last   map[string]reused
}

type reused struct {
	key      string
	at       time.Time
	decision sdk.Decision
}

// maxReused bounds the cache: beyond it, entries past the window go.
const maxReused = 4096

func newReuseCache(window time.Duration) *reuseCache {
	return &reuseCache{window: window, last: map[string]reused{}}
}

// alertKey is what makes two alerts of one container identical: the same
// issues and the same lifecycle facts.
func alertKey(a sdk.Alert) string {
	issues := slices.Clone(a.Issues)
	slices.Sort(issues)
	var b strings.Builder
	b.WriteString(strings.Join(issues, "\x1f"))
	if s := a.Sample; s != nil {
		b.WriteString("\x1e" + s.Event + "\x1e" + strconv.Itoa(s.ExitCode) + "\x1e" + strconv.FormatBool(s.OOMKilled) + "\x1e" + s.Health)
	}
	return b.String()
}

func (c *reuseCache) get(a sdk.Alert, now time.Time) (sdk.Decision, time.Time, bool) {
	if c.window <= 0 {
		return sdk.Decision{}, time.Time{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.last[a.Container]
	if !ok || r.key != alertKey(a) || now.Sub(r.at) > c.window || now.Before(r.at) {
		return sdk.Decision{}, time.Time{}, false
	}
	return r.decision, r.at, true
}

func (c *reuseCache) put(a sdk.Alert, d sdk.Decision, now time.Time) {
	if c.window <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.last) >= maxReused {
		for k, r := range c.last {
			if now.Sub(r.at) > c.window {
				delete(c.last, k)
			}
		}
	}
	if len(c.last) < maxReused {
		c.last[a.Container] = reused{key: alertKey(a), at: now, decision: d}
	}
}
