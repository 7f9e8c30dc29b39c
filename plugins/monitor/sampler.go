package monitor

import (
	"context"
	"errors"
)

// target is what a sampler needs to know about a container.
type target struct {
	ID           string
	CgroupParent string
}

// sampler reads a container's resource counters.
type sampler interface {
	read(ctx context.Context, t target) (reading, error)
	// forget drops whatever the sampler cached about a container.
	forget(id string)
}

// errNoCgroup says a container's cgroup files are not readable from here:
// hemostatd does not share the engine's host, or the container is gone.
var errNoCgroup = errors.New("container cgroup not found")

// errCgroupGone says a container's cgroup files, found before, are gone:
// the container stopped. Asking the Engine API instead would only get an
// empty document for it.
var errCgroupGone = errors.New("container cgroup gone")

// autoSampler reads a container's cgroup files when it can and asks the
// Engine API when it cannot, deciding per container.
type autoSampler struct {
	cgroup *cgroupSampler
	api    sampler
}

func (a *autoSampler) read(ctx context.Context, t target) (reading, error) {
	r, err := a.cgroup.read(ctx, t)
	// Only a cgroup never found means the files are out of reach; one
	// that went away means the container did (errCgroupGone).
	if errors.Is(err, errNoCgroup) {
		return a.api.read(ctx, t)
	}
	return r, err
}

func (a *autoSampler) forget(id string) {
	a.cgroup.forget(id)
	a.api.forget(id)
}
