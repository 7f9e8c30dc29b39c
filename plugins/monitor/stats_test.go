package monitor

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/docker/docker/api/types/container"
)

func TestCPUPercent(t *testing.T) {
	tests := []struct {
		name      string
		prev, cur reading
		want      float64
	}{
		{"one core of two busy", reading{cpuTotal: 0, systemTotal: 0}, reading{cpuTotal: 1e9, systemTotal: 2e9, onlineCPUs: 2}, 100},
		{"half a core of four", reading{cpuTotal: 5e8, systemTotal: 1e9}, reading{cpuTotal: 1e9, systemTotal: 5e9, onlineCPUs: 4}, 50},
		{"idle", reading{cpuTotal: 7, systemTotal: 1}, reading{cpuTotal: 7, systemTotal: 4e9, onlineCPUs: 4}, 0},
		{"no system progress", reading{cpuTotal: 1, systemTotal: 9}, reading{cpuTotal: 2, systemTotal: 9, onlineCPUs: 1}, 0},
		{"counter reset", reading{cpuTotal: 9e9, systemTotal: 1}, reading{cpuTotal: 1, systemTotal: 2e9, onlineCPUs: 1}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cpuPercent(tt.prev, tt.cur); math.Abs(got-tt.want) > 1e-9 {
				t.Fatalf("cpuPercent = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMemory(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name     string
		stat     map[string]uint64
		usage    uint64
		limit    uint64
		hostMem  uint64
		wantUsed uint64
		wantPct  float64
		wantHost bool
	}{
		{"v1 total_inactive_file", map[string]uint64{"total_inactive_file": 10 * mib, "cache": 30 * mib}, 60 * mib, 100 * mib, 1000 * mib, 50 * mib, 50, false},
		{"v1 cache fallback", map[string]uint64{"cache": 30 * mib}, 60 * mib, 100 * mib, 1000 * mib, 30 * mib, 30, false},
		{"v2 inactive_file", map[string]uint64{"inactive_file": 5 * mib, "file": 9 * mib}, 30 * mib, 100 * mib, 1000 * mib, 25 * mib, 25, false},
		{"cache above usage", map[string]uint64{"inactive_file": 50 * mib}, 30 * mib, 100 * mib, 1000 * mib, 30 * mib, 30, false},
		{"no limit (v1 huge)", map[string]uint64{}, 100 * mib, 9223372036854771712, 1000 * mib, 100 * mib, 10, true},
		{"no limit (v2 max)", map[string]uint64{}, 100 * mib, 0, 1000 * mib, 100 * mib, 10, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := reading{memUsage: tt.usage, memInactiveFile: inactiveFile(tt.stat)}
			r.memLimit, r.limitIsHost = capLimit(tt.limit, tt.hostMem)
			if got := r.memoryUsed(); got != tt.wantUsed {
				t.Errorf("memoryUsed = %d, want %d", got, tt.wantUsed)
			}
			if got := r.memoryPercent(); math.Abs(got-tt.wantPct) > 1e-9 {
				t.Errorf("memoryPercent = %v, want %v", got, tt.wantPct)
			}
			if r.limitIsHost != tt.wantHost {
				t.Errorf("limitIsHost = %v, want %v", r.limitIsHost, tt.wantHost)
			}
		})
	}
}

func TestReadingFromStats(t *testing.T) {
	var st container.StatsResponse
	st.CPUStats.CPUUsage.TotalUsage = 3e9
	st.CPUStats.CPUUsage.PercpuUsage = []uint64{1, 2, 3}
	st.CPUStats.SystemUsage = 9e9
	st.MemoryStats.Usage = 40 << 20
	st.MemoryStats.Limit = 1 << 30
	st.MemoryStats.Stats = map[string]uint64{"total_inactive_file": 8 << 20}
	r := readingFromStats(st, 1<<30)
	if r.onlineCPUs != 3 || r.cpuTotal != 3e9 || r.systemTotal != 9e9 {
		t.Errorf("cpu = %+v, want online 3 (from per-CPU usage), total 3e9, system 9e9", r)
	}
	if r.memoryUsed() != 32<<20 || !r.limitIsHost {
		t.Errorf("memory used %d, limitIsHost %v; want %d, true", r.memoryUsed(), r.limitIsHost, 32<<20)
	}
}

func TestParseProcStat(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "proc_stat"))
	if err != nil {
		t.Fatal(err)
	}
	total, online, err := parseProcStat(data)
	if err != nil {
		t.Fatal(err)
	}
	// user+nice+system+idle+iowait+irq+softirq of the cpu line, in ns;
	// steal and guest are left out as dockerd does.
	wantTicks := uint64(28756 + 0 + 7852 + 119114 + 487 + 0 + 109)
	if total != wantTicks*1e7 || online != 2 {
		t.Fatalf("parseProcStat = %d, %d; want %d, 2", total, online, wantTicks*1e7)
	}
	for _, bad := range []string{"", "intr 1 2 3\n", "cpu 1 2 3\n", "cpu a b c d e f g\n"} {
		if _, _, err := parseProcStat([]byte(bad)); err == nil {
			t.Errorf("parseProcStat(%q) succeeded, want an error", bad)
		}
	}
}

func TestParseMemInfoTotal(t *testing.T) {
	got, err := parseMemInfoTotal([]byte("MemTotal:       24684084 kB\nMemFree:        24205000 kB\n"))
	if err != nil || got != 24684084*1024 {
		t.Fatalf("parseMemInfoTotal = %d, %v", got, err)
	}
	if _, err := parseMemInfoTotal([]byte("MemFree: 1 kB\n")); err == nil {
		t.Fatal("parseMemInfoTotal without MemTotal succeeded")
	}
}
