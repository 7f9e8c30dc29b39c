package monitor

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hemostat/hemostat/sdk"
)

// funcSampler is a sampler whose read is a function.
type funcSampler struct {
	reads atomic.Int32
	fn    func(t target) (reading, error)
}

func (f *funcSampler) read(_ context.Context, t target) (reading, error) {
	f.reads.Add(1)
	return f.fn(t)
}

func (f *funcSampler) forget(string) {}

// TestSampleOnceDropsContainerThatDiedDuringTheRead lets the container die
// while its counters are read: no "running" sample may follow its die.
func TestSampleOnceDropsContainerThatDiedDuringTheRead(t *testing.T) {
	var got []sdk.Sample
	w := newWatcher(nil, settings{concurrency: 2, interval: time.Second}, hclogNull(), selfIdentity{}, func(s sdk.Sample) error {
		got = append(got, s)
		return nil
	})
	started := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	alive := containerInfo{ID: "alive", Name: "alive", Status: "running", StartedAt: started, Reported: true}
	dies := containerInfo{ID: "dies", Name: "dies", Status: "running", StartedAt: started, Reported: true}
	w.inv.put(alive)
	w.inv.put(dies)
	r := reading{cpuTotal: 2e9, systemTotal: 2e10, onlineCPUs: 1, memUsage: 1 << 20, memLimit: 1 << 30}
	fake := &funcSampler{fn: func(tg target) (reading, error) {
		if tg.ID == "dies" {
			// The die event is handled while the read is under way.
			d := dies
			d.Status, d.ExitCode = "exited", 1
			w.inv.put(d)
		}
		return r, nil
	}}
	w.samplerOnce.Do(func() { w.smp = fake })
	prev := map[string]reading{"alive": {cpuTotal: 1e9, systemTotal: 1e10, onlineCPUs: 1}, "dies": {cpuTotal: 1e9, systemTotal: 1e10, onlineCPUs: 1}}

	if err := w.sampleOnce(context.Background(), prev, true); err != nil {
		t.Fatal(err)
	}
	if fake.reads.Load() != 2 {
		t.Fatalf("%d reads, want 2", fake.reads.Load())
	}
	if len(got) != 1 || got[0].Container != "alive" || got[0].Status != "running" {
		t.Fatalf("samples = %s, want one for alive only", describe(got))
	}
}

// TestAutoSamplerStaysOffTheAPIWhenTheCgroupGoes removes a container's
// cgroup after it was found: the container stopped, and the API would only
// answer with an empty document.
func TestAutoSamplerStaysOffTheAPIWhenTheCgroupGoes(t *testing.T) {
	const id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	root, procRoot := t.TempDir(), t.TempDir()
	writeTree(t, procRoot, map[string]string{
		"stat":    "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 100 0 100 800 0 0 0 0 0 0\n",
		"meminfo": "MemTotal: 1048576 kB\n",
	})
	writeTree(t, root, map[string]string{
		"cgroup.controllers":               "cpu memory\n",
		"docker/" + id + "/cpu.stat":       "usage_usec 1500000\n",
		"docker/" + id + "/memory.current": "52428800\n",
		"docker/" + id + "/memory.max":     "max\n",
		"docker/" + id + "/memory.stat":    "inactive_file 0\n",
	})
	api := &funcSampler{fn: func(target) (reading, error) { return reading{}, nil }}
	auto := &autoSampler{cgroup: newCgroupSampler(root, procRoot, driverCgroupfs), api: api}

	if _, err := auto.read(t.Context(), target{ID: id}); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(root, "docker", id)); err != nil {
		t.Fatal(err)
	}
	if _, err := auto.read(t.Context(), target{ID: id}); !errors.Is(err, errCgroupGone) {
		t.Fatalf("read after the cgroup went = %v, want errCgroupGone", err)
	}
	if n := api.reads.Load(); n != 0 {
		t.Fatalf("the API was asked %d times for a container whose cgroup went away", n)
	}
	// A container whose cgroup was never found is the API's.
	if _, err := auto.read(t.Context(), target{ID: "elsewhere"}); err != nil || api.reads.Load() != 1 {
		t.Fatalf("read of a container out of reach = %v after %d API reads, want the API asked once", err, api.reads.Load())
	}
}
