// Package forecast projects when a container's memory reaches its limit.
// It fits a least-squares line to the recent samples and trusts the slope
// only when it stands well clear of the noise (several standard errors),
// so that a flat or noisy container is never projected to run out.
//
// The monitor role uses it to alert a memory leak before the kernel's OOM
// kill, which a threshold with a sustain window would only see after.
package forecast
