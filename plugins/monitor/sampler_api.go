package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
)

// apiSampler reads counters through the Engine API's one-shot stats. It
// works against any engine, local or remote, but costs dockerd several
// milliseconds of CPU per container.
type apiSampler struct {
	cli *client.Client
	// callTimeout bounds the engine info request, statsTimeout a stats
	// one: a worker stuck on an engine that never answers would hold up
	// the whole sampling pass.
	callTimeout  time.Duration
	statsTimeout time.Duration

	mu         sync.Mutex
	hostMemory uint64 // the engine's MemTotal, fetched once
	infoErr    error  // the last failure to fetch it, until retryInfo
	retryInfo  time.Time
}

func newAPISampler(cli *client.Client, callTimeout, statsTimeout time.Duration) *apiSampler {
	return &apiSampler{cli: cli, callTimeout: callTimeout, statsTimeout: statsTimeout}
}

// errNotRunning says the engine has no counters for a container: it
// stopped since the inventory said it was running.
var errNotRunning = errors.New("container not running")

func (a *apiSampler) read(ctx context.Context, t target) (reading, error) {
	hostMem, err := a.engineMemory(ctx)
	if err != nil {
		return reading{}, err
	}
	sctx, cancel := context.WithTimeout(ctx, a.statsTimeout)
	defer cancel()
	resp, err := a.cli.ContainerStatsOneShot(sctx, t.ID)
	if timedOut(sctx, err) {
		return reading{}, fmt.Errorf("stats of %s: %w", shortID(t.ID), errEngineTimeout)
	}
	if err != nil {
		return reading{}, err
	}
	defer resp.Body.Close()
	var st container.StatsResponse
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		if timedOut(sctx, err) {
			return reading{}, fmt.Errorf("stats of %s: %w", shortID(t.ID), errEngineTimeout)
		}
		return reading{}, fmt.Errorf("decode stats of %s: %w", shortID(t.ID), err)
	}
	if st.Read.IsZero() {
		// The engine answers for a stopped container with an empty
		// document: zeros that are no reading.
		return reading{}, fmt.Errorf("stats of %s: %w", shortID(t.ID), errNotRunning)
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

// engineMemory returns the engine's memory, asking it once. A failure is
// remembered for infoRetry: the workers would otherwise queue on the lock,
// each waiting out its own timeout.
func (a *apiSampler) engineMemory(ctx context.Context) (uint64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.hostMemory != 0 {
		return a.hostMemory, nil
	}
	if a.infoErr != nil && time.Now().Before(a.retryInfo) {
		return 0, a.infoErr
	}
	ictx, cancel := context.WithTimeout(ctx, a.callTimeout)
	defer cancel()
	info, err := a.cli.Info(ictx)
	if timedOut(ictx, err) {
		err = errEngineTimeout
	}
	if err != nil {
		if ctx.Err() != nil {
			return 0, err // the caller gave up: nothing learned
		}
		a.infoErr, a.retryInfo = fmt.Errorf("engine info: %w", err), time.Now().Add(infoRetry)
		return 0, a.infoErr
	}
	a.hostMemory, a.infoErr = uint64(info.MemTotal), nil
	return a.hostMemory, nil
}

func (a *apiSampler) forget(string) {}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
