package protocol

import (
	"crypto/sha256"
	"encoding/hex"
)

// RequestID names the request an envelope makes, for idempotency: the
// same envelope, delivered again, has the same ID. It is the first 128
// bits of the SHA-256 of the envelope's fields, in hex; the data is
// hashed as received, so two copies of one envelope agree.
func RequestID(env Envelope) string {
	h := sha256.New()
	for _, part := range []string{env.Timestamp, env.Agent, env.Type} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	h.Write(env.Data)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// RequestKey records that a request was taken up, so that it is acted on
// at most once: hemostat:request:<id>. An extension of the protocol.
func RequestKey(id string) string { return Prefix + "request:" + id }
