package overview

import (
	"hash/fnv"

	"github.com/hemostat/hemostat/host/protocol"
)

// seenSize is how many envelopes the model remembers having applied: the
// start-up replay of the event logs and the live subscription overlap, and
// an envelope in both must count once.
const seenSize = 8192

// seenSet remembers the hashes of the last seenSize envelopes.
type seenSet struct {
	set  map[uint64]struct{}
	ring []uint64
	next int
}

func newSeenSet() *seenSet {
	return &seenSet{set: make(map[uint64]struct{}, seenSize), ring: make([]uint64, 0, seenSize)}
}

func envelopeHash(env protocol.Envelope) uint64 {
	h := fnv.New64a()
	for _, s := range []string{env.Type, env.Timestamp, env.Agent} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	h.Write(env.Data)
	return h.Sum64()
}

// add records env and reports whether it was new.
func (s *seenSet) add(env protocol.Envelope) bool {
	k := envelopeHash(env)
	if _, dup := s.set[k]; dup {
		return false
	}
	if len(s.ring) < seenSize {
		s.ring = append(s.ring, k)
	} else {
		delete(s.set, s.ring[s.next])
		s.ring[s.next] = k
		s.next = (s.next + 1) % seenSize
	}
	s.set[k] = struct{}{}
	return true
}
