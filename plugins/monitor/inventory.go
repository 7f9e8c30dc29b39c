package monitor

import (
	"maps"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/hemostat/hemostat/sdk"
)

// containerInfo is what the plugin knows about one container: the parts
// that never change, read once from an inspect, and the state that events
// keep current.
type containerInfo struct {
	ID            string
	Name          string
	Image         string
	Labels        map[string]string
	Tty           bool
	CgroupParent  string
	RestartPolicy container.RestartPolicy
	// StopSignal is the container's own stop signal (its config's or its
	// image's STOPSIGNAL), 0 when it has none and the engine's default,
	// SIGTERM, applies.
	StopSignal syscall.Signal
	// Reported is false for containers out of scope; they are tracked
	// only so that their events are dropped without an inspect.
	Reported bool

	Status       string
	Health       string
	StartedAt    time.Time
	FinishedAt   time.Time
	RestartCount int
	ExitCode     int
	OOMKilled    bool

	// SyncedAt is when a resync read the state above from the engine;
	// events older than it are already reflected in it.
	SyncedAt time.Time
	// The flags below record what kill and oom events said since the last
	// start (see applyKill). StopRequested: a kill asked the container to
	// exit, so its exit is not a crash. PolicyCancelled: the engine
	// cancelled the restart policy for the next exit. ManuallyStopped: a
	// kill of any kind came, which an unless-stopped policy honours.
	StopRequested   bool
	PolicyCancelled bool
	ManuallyStopped bool
	OOMSeen         bool
}

// infoFromInspect builds a containerInfo from an inspect.
func infoFromInspect(c container.InspectResponse) *containerInfo {
	info := &containerInfo{
		ID:           c.ID,
		Name:         strings.TrimPrefix(c.Name, "/"),
		RestartCount: c.RestartCount,
	}
	if c.Config != nil {
		info.Image = c.Config.Image
		info.Labels = maps.Clone(c.Config.Labels)
		info.Tty = c.Config.Tty
		info.StopSignal = parseSignal(c.Config.StopSignal)
	}
	if c.HostConfig != nil {
		info.RestartPolicy = c.HostConfig.RestartPolicy
		info.CgroupParent = c.HostConfig.CgroupParent
	}
	if st := c.State; st != nil {
		info.Status = string(st.Status)
		info.ExitCode = st.ExitCode
		info.OOMKilled = st.OOMKilled
		info.StartedAt = parseEngineTime(st.StartedAt)
		info.FinishedAt = parseEngineTime(st.FinishedAt)
		if st.Health != nil {
			info.Health = string(st.Health.Status)
		}
	}
	return info
}

// parseEngineTime parses the engine's RFC 3339 times; its zero value
// ("0001-01-01T00:00:00Z") and garbage give the zero time.
func parseEngineTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() <= 1 {
		return time.Time{}
	}
	return t.UTC()
}

// sample returns a sample of the container's current state, observed now.
func (c *containerInfo) sample(now time.Time) sdk.Sample {
	return sdk.Sample{
		Container:     c.Name,
		ID:            c.ID,
		Image:         c.Image,
		Status:        c.Status,
		Time:          now.UTC(),
		ExitCode:      c.exitCodeIfStopped(),
		OOMKilled:     c.OOMKilled,
		Health:        c.Health,
		RestartCount:  c.RestartCount,
		StartedAt:     c.StartedAt,
		FinishedAt:    c.FinishedAt,
		RestartPolicy: string(c.RestartPolicy.Name),
		Labels:        maps.Clone(c.Labels),
	}
}

func (c *containerInfo) exitCodeIfStopped() int {
	if c.Status == "running" || c.Status == "paused" {
		return 0
	}
	return c.ExitCode
}

// willRestart predicts, as the engine's restart manager decides, whether a
// container that just exited with exitCode is brought back by its restart
// policy, given the kills seen since it started (see applyKill).
func (c *containerInfo) willRestart(exitCode int) bool {
	if c.PolicyCancelled {
		return false
	}
	p := c.RestartPolicy
	switch {
	case p.IsAlways():
		return true
	case p.IsUnlessStopped():
		return !c.ManuallyStopped
	case p.IsOnFailure():
		return exitCode != 0 && (p.MaximumRetryCount == 0 || c.RestartCount < p.MaximumRetryCount)
	}
	return false
}

// inventory is the plugin's view of every container on the engine. The
// event loop writes it; the resource sampler reads it.
type inventory struct {
	mu   sync.RWMutex
	byID map[string]*containerInfo
}

func newInventory() *inventory { return &inventory{byID: map[string]*containerInfo{}} }

// get returns a copy of the container's info.
func (inv *inventory) get(id string) (containerInfo, bool) {
	inv.mu.RLock()
	defer inv.mu.RUnlock()
	c, ok := inv.byID[id]
	if !ok {
		return containerInfo{}, false
	}
	return *c, true
}

func (inv *inventory) put(c containerInfo) {
	inv.mu.Lock()
	inv.byID[c.ID] = &c
	inv.mu.Unlock()
}

func (inv *inventory) remove(id string) {
	inv.mu.Lock()
	delete(inv.byID, id)
	inv.mu.Unlock()
}

// ids lists every tracked container.
func (inv *inventory) ids() []string {
	inv.mu.RLock()
	defer inv.mu.RUnlock()
	out := make([]string, 0, len(inv.byID))
	for id := range inv.byID {
		out = append(out, id)
	}
	return out
}

// running returns copies of the reported containers that are running.
func (inv *inventory) running() []containerInfo {
	inv.mu.RLock()
	defer inv.mu.RUnlock()
	var out []containerInfo
	for _, c := range inv.byID {
		if c.Reported && c.Status == "running" {
			out = append(out, *c)
		}
	}
	return out
}
