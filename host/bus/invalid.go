package bus

import "github.com/hemostat/hemostat/host/protocol"

// CountInvalid records a message whose envelope was valid but whose data a
// handler rejected (protocol.DecodeData): it is logged (rate-limited,
// without the payload), counted like an invalid envelope, and skipped.
func (b *Bus) CountInvalid(env protocol.Envelope, err error) {
	b.rejectMessage(env.Type, len(env.Data), err)
}
