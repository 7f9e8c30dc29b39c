package monitor

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// reading is one raw observation of a container's counters, from either
// sampler. CPU percentages need two readings; memory needs one.
type reading struct {
	// cpuTotal is the CPU time the container has used since it started, ns.
	cpuTotal uint64
	// systemTotal is the CPU time the whole host has spent, ns, as dockerd
	// computes it from /proc/stat.
	systemTotal uint64
	onlineCPUs  uint32
	// memUsage is the cgroup's memory usage, page cache included.
	memUsage uint64
	// memInactiveFile is the page cache docker stats leaves out.
	memInactiveFile uint64
	// memLimit is the container's limit, already capped to the host's
	// memory; limitIsHost says there was no lower limit.
	memLimit    uint64
	limitIsHost bool
}

// cpuPercent is docker stats' CPU figure: the container's share of the
// host's CPU time between two readings, scaled so that one busy core is
// 100 %.
func cpuPercent(prev, cur reading) float64 {
	cpuDelta := float64(cur.cpuTotal) - float64(prev.cpuTotal)
	systemDelta := float64(cur.systemTotal) - float64(prev.systemTotal)
	if systemDelta <= 0 || cpuDelta <= 0 {
		return 0
	}
	return cpuDelta / systemDelta * float64(cur.onlineCPUs) * 100
}

// memoryUsed is docker stats' memory figure: usage minus the inactive page
// cache, which the kernel reclaims before it would kill anything.
func (r reading) memoryUsed() uint64 {
	if r.memInactiveFile < r.memUsage {
		return r.memUsage - r.memInactiveFile
	}
	return r.memUsage
}

// memoryPercent is memoryUsed as a percentage of the limit.
func (r reading) memoryPercent() float64 {
	if r.memLimit == 0 {
		return 0
	}
	return float64(r.memoryUsed()) / float64(r.memLimit) * 100
}

// inactiveFile picks the page-cache figure docker stats subtracts from a
// memory.stat: total_inactive_file on cgroup v1 (cache on kernels without
// it), inactive_file on cgroup v2.
func inactiveFile(stat map[string]uint64) uint64 {
	for _, key := range []string{"total_inactive_file", "inactive_file", "cache"} {
		if v, ok := stat[key]; ok {
			return v
		}
	}
	return 0
}

// capLimit applies dockerd's rule: a limit above the host's memory (no
// limit at all, in practice) is reported as the host's memory.
func capLimit(limit, hostMemory uint64) (uint64, bool) {
	if hostMemory > 0 && (limit == 0 || limit >= hostMemory) {
		return hostMemory, true
	}
	return limit, false
}

// clockTicksPerSecond is USER_HZ, the unit of /proc/stat; Linux fixes it at
// 100 for user space whatever the kernel's HZ.
const clockTicksPerSecond = 100

// parseProcStat returns the host's total CPU time in ns and the number of
// online CPUs, exactly as dockerd's stats collector derives them: the sum
// of the first seven fields of the "cpu" line (user, nice, system, idle,
// iowait, irq, softirq) and the count of "cpuN" lines.
func parseProcStat(data []byte) (total uint64, online uint32, err error) {
	found := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "cpu") {
			continue
		}
		fields := strings.Fields(line)
		if fields[0] != "cpu" {
			online++
			continue
		}
		if len(fields) < 8 {
			return 0, 0, fmt.Errorf("/proc/stat: cpu line has %d fields, want at least 8", len(fields))
		}
		var ticks uint64
		for _, f := range fields[1:8] {
			v, err := strconv.ParseUint(f, 10, 64)
			if err != nil {
				return 0, 0, fmt.Errorf("/proc/stat: %w", err)
			}
			ticks += v
		}
		total = ticks * 1e9 / clockTicksPerSecond
		found = true
	}
	if !found {
		return 0, 0, errors.New("/proc/stat: no cpu line")
	}
	return total, online, sc.Err()
}

// parseFlatKeyed parses a cgroup "key value" file such as memory.stat or
// cpu.stat.
func parseFlatKeyed(data []byte) (map[string]uint64, error) {
	out := make(map[string]uint64, 64)
	for line := range strings.Lines(string(data)) {
		key, value, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseUint(strings.TrimSpace(value), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		out[key] = v
	}
	return out, nil
}

// parseMemInfoTotal returns MemTotal from /proc/meminfo in bytes.
func parseMemInfoTotal(data []byte) (uint64, error) {
	for line := range strings.Lines(string(data)) {
		rest, ok := strings.CutPrefix(line, "MemTotal:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			break
		}
		kb, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/meminfo: MemTotal: %w", err)
		}
		return kb * 1024, nil
	}
	return 0, errors.New("/proc/meminfo: no MemTotal line")
}
