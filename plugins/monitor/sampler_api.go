package monitor

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
)

// apiSampler reads counters through the Engine API's one-shot stats. It
// works against any engine, local or remote, but costs dockerd several
// milliseconds of CPU per container.
type apiSampler struct {
	cli *client.Client

	mu         sync.Mutex
	hostMemory uint64 // the engine's MemTotal, fetched once
}

func newAPISampler(cli *client.Client) *apiSampler { return &apiSampler{cli: cli} }

func (a *apiSampler) read(ctx context.Context, t target) (reading, error) {
	hostMem, err := a.engineMemory(ctx)
	if err != nil {
		return reading{}, err
	}
	resp, err := a.cli.ContainerStatsOneShot(ctx, t.ID)
	if err != nil {
		return reading{}, err
	}
	defer resp.Body.Close()
	var st container.StatsResponse
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return reading{}, fmt.Errorf("decode stats of %s: %w", shortID(t.ID), err)
	}
	return readingFromStats(st, hostMem), nil
}

// readingFromStats converts an Engine API stats document.
func readingFromStats(st container.StatsResponse, hostMemory uint64) reading {
	online := st.CPUStats.OnlineCPUs
	if online == 0 {
		online = uint32(len(st.CPUStats.CPUUsage.PercpuUsage))
	}
	// dockerd already caps an absent limit to the host's memory.
	limit, isHost := capLimit(st.MemoryStats.Limit, hostMemory)
	return reading{
		cpuTotal:        st.CPUStats.CPUUsage.TotalUsage,
		systemTotal:     st.CPUStats.SystemUsage,
		onlineCPUs:      online,
		memUsage:        st.MemoryStats.Usage,
		memInactiveFile: inactiveFile(st.MemoryStats.Stats),
		memLimit:        limit,
		limitIsHost:     isHost,
	}
}

func (a *apiSampler) engineMemory(ctx context.Context) (uint64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.hostMemory != 0 {
		return a.hostMemory, nil
	}
	info, err := a.cli.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("engine info: %w", err)
	}
	a.hostMemory = uint64(info.MemTotal)
	return a.hostMemory, nil
}

func (a *apiSampler) forget(string) {}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
