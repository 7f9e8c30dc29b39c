package role

import (
	"hash/maphash"
	"sync"

	"github.com/hemostat/hemostat/host/protocol"
)

// duplicateRingSize is how many alerts the analyzer role remembers to
// recognise one published again: a monitor that retries its PUBLISH, a
// relay that forwards twice, a replay overlapping live delivery.
const duplicateRingSize = 4096

// envelopeRing remembers the hashes of the last envelopes seen, in
// constant time per envelope and constant memory: a ring of hashes with a
// counted set beside it.
type envelopeRing struct {
	seed maphash.Seed

	mu   sync.Mutex
	ring []uint64
	next int
	set  map[uint64]int // hash → how many times it is in ring
}

func newEnvelopeRing(size int) *envelopeRing {
	return &envelopeRing{seed: maphash.MakeSeed(), ring: make([]uint64, size), set: make(map[uint64]int, size)}
}

// seen reports whether env is one of the last envelopes remembered, and
// remembers it, forgetting the oldest, when it is not. Two envelopes are
// the same when every field is byte for byte: the same alert published
// again. A new alert about the same container carries a new timestamp.
func (r *envelopeRing) seen(env protocol.Envelope) bool {
	var h maphash.Hash
	h.SetSeed(r.seed)
	for _, s := range []string{env.Timestamp, env.Agent, env.Type} {
		h.WriteString(s)
		h.WriteByte(0)
	}
	h.Write(env.Data)
	sum := h.Sum64()

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.set[sum] > 0 {
		return true
	}
	if old := r.ring[r.next]; r.set[old] > 0 {
		if r.set[old]--; r.set[old] == 0 {
			delete(r.set, old)
		}
	}
	r.ring[r.next] = sum
	r.next = (r.next + 1) % len(r.ring)
	r.set[sum]++
	return false
}
