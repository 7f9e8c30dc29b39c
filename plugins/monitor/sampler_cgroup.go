package monitor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Cgroup drivers as the engine reports them.
const (
	driverCgroupfs = "cgroupfs"
	driverSystemd  = "systemd"
)

// cgroupSampler reads a container's counters straight from its cgroup
// files and the host's /proc/stat: the same numbers dockerd would read,
// without a round trip through the engine.
type cgroupSampler struct {
	root     string // the cgroup hierarchy's mount point
	procRoot string // /proc of the host
	v2       bool
	// driver is the engine's cgroup driver; empty tries both layouts.
	driver string

	memOnce    sync.Once
	hostMemory uint64
	memErr     error

	mu    sync.Mutex
	paths map[string]cgroupPaths
}

// cgroupPaths are the directories holding one container's counters.
type cgroupPaths struct {
	cpu    string // cpuacct controller (v1) or the unified directory (v2)
	memory string
}

func newCgroupSampler(root, procRoot, driver string) *cgroupSampler {
	_, err := os.Stat(filepath.Join(root, "cgroup.controllers"))
	return &cgroupSampler{
		root:     root,
		procRoot: procRoot,
		v2:       err == nil,
		driver:   driver,
		paths:    map[string]cgroupPaths{},
	}
}

func (c *cgroupSampler) read(_ context.Context, t target) (reading, error) {
	p, err := c.resolve(t)
	if err != nil {
		return reading{}, err
	}
	hostMem, err := c.hostMem()
	if err != nil {
		return reading{}, err
	}
	var r reading
	if c.v2 {
		r, err = readV2(p)
	} else {
		r, err = readV1(p)
	}
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			// Resolved a moment ago: the container stopped since. A
			// restart gets a fresh resolve.
			c.forget(t.ID)
			return reading{}, fmt.Errorf("%s: %w", shortID(t.ID), errCgroupGone)
		}
		return reading{}, err
	}
	stat, err := os.ReadFile(filepath.Join(c.procRoot, "stat"))
	if err != nil {
		return reading{}, err
	}
	if r.systemTotal, r.onlineCPUs, err = parseProcStat(stat); err != nil {
		return reading{}, err
	}
	r.memLimit, r.limitIsHost = capLimit(r.memLimit, hostMem)
	return r, nil
}

func readV1(p cgroupPaths) (reading, error) {
	var r reading
	var err error
	if r.cpuTotal, err = readUint(filepath.Join(p.cpu, "cpuacct.usage")); err != nil {
		return r, err
	}
	if r.memUsage, err = readUint(filepath.Join(p.memory, "memory.usage_in_bytes")); err != nil {
		return r, err
	}
	if r.memLimit, err = readUint(filepath.Join(p.memory, "memory.limit_in_bytes")); err != nil {
		return r, err
	}
	stat, err := readFlatKeyed(filepath.Join(p.memory, "memory.stat"))
	if err != nil {
		return r, err
	}
	r.memInactiveFile = inactiveFile(stat)
	return r, nil
}

func readV2(p cgroupPaths) (reading, error) {
	var r reading
	cpu, err := readFlatKeyed(filepath.Join(p.cpu, "cpu.stat"))
	if err != nil {
		return r, err
	}
	r.cpuTotal = cpu["usage_usec"] * 1000
	if r.memUsage, err = readUint(filepath.Join(p.memory, "memory.current")); err != nil {
		return r, err
	}
	// memory.max is "max" when there is no limit: leave 0 for capLimit.
	if r.memLimit, err = readUint(filepath.Join(p.memory, "memory.max")); err != nil && !errors.Is(err, errUnlimited) {
		return r, err
	}
	stat, err := readFlatKeyed(filepath.Join(p.memory, "memory.stat"))
	if err != nil {
		return r, err
	}
	r.memInactiveFile = inactiveFile(stat)
	return r, nil
}

// resolve finds the container's cgroup directories, trying the layouts the
// engine's cgroup driver and the container's cgroup parent allow, and
// remembers them.
func (c *cgroupSampler) resolve(t target) (cgroupPaths, error) {
	c.mu.Lock()
	p, ok := c.paths[t.ID]
	c.mu.Unlock()
	if ok {
		return p, nil
	}
	for _, rel := range cgroupCandidates(c.driver, t.CgroupParent, t.ID) {
		if c.v2 {
			p = cgroupPaths{cpu: filepath.Join(c.root, rel), memory: filepath.Join(c.root, rel)}
		} else {
			p = cgroupPaths{cpu: filepath.Join(c.root, "cpuacct", rel), memory: filepath.Join(c.root, "memory", rel)}
		}
		if !isDir(p.cpu) || !isDir(p.memory) {
			continue
		}
		c.mu.Lock()
		c.paths[t.ID] = p
		c.mu.Unlock()
		return p, nil
	}
	return cgroupPaths{}, fmt.Errorf("%s under %s: %w", shortID(t.ID), c.root, errNoCgroup)
}

func (c *cgroupSampler) forget(id string) {
	c.mu.Lock()
	delete(c.paths, id)
	c.mu.Unlock()
}

func (c *cgroupSampler) hostMem() (uint64, error) {
	c.memOnce.Do(func() {
		data, err := os.ReadFile(filepath.Join(c.procRoot, "meminfo"))
		if err != nil {
			c.memErr = err
			return
		}
		c.hostMemory, c.memErr = parseMemInfoTotal(data)
	})
	return c.hostMemory, c.memErr
}

// cgroupCandidates lists the places, relative to a controller's root, where
// the engine puts a container's cgroup: <parent>/<id> with the cgroupfs
// driver (parent "docker" by default), <slice path>/docker-<id>.scope with
// the systemd driver (slice "system.slice" by default). An unknown driver
// tries both.
func cgroupCandidates(driver, parent, id string) []string {
	var out []string
	if driver != driverSystemd {
		p := strings.Trim(parent, "/")
		if p == "" {
			p = "docker"
		}
		out = append(out, filepath.Join(p, id))
	}
	if driver != driverCgroupfs {
		slice := parent
		if slice == "" {
			slice = "system.slice"
		}
		out = append(out, filepath.Join(expandSlice(slice), "docker-"+id+".scope"))
	}
	return out
}

// expandSlice turns a systemd slice name into its cgroup path:
// "a-b-c.slice" lives at "a.slice/a-b.slice/a-b-c.slice". A value that is
// already a path is returned cleaned.
func expandSlice(slice string) string {
	if strings.Contains(slice, "/") || !strings.HasSuffix(slice, ".slice") {
		return strings.Trim(filepath.Clean(slice), "/")
	}
	name := strings.TrimSuffix(slice, ".slice")
	if name == "-" || name == "" {
		return ""
	}
	var parts []string
	prefix := ""
	for _, comp := range strings.Split(name, "-") {
		if prefix != "" {
			prefix += "-"
		}
		prefix += comp
		parts = append(parts, prefix+".slice")
	}
	return filepath.Join(parts...)
}

// errUnlimited marks a cgroup v2 limit file that says "max".
var errUnlimited = errors.New("no limit")

func readUint(path string) (uint64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	s := strings.TrimSpace(string(data))
	if s == "max" {
		return 0, errUnlimited
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

func readFlatKeyed(path string) (map[string]uint64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := parseFlatKeyed(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}
