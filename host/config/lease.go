package config

import (
	"fmt"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Lease is the standby election of the daemons that share one Docker
// engine and one Redis (see host/lease). It applies only with an external
// Redis: an embedded one is nobody else's.
type Lease struct {
	Enabled bool
	// TTL is how long the lease lives unrenewed, the longest a standby
	// waits after the active daemon died.
	TTL time.Duration
}

// DefaultLeaseTTL hands over within seconds while leaving room for a slow
// Redis round trip in each of the three renewals per TTL.
const DefaultLeaseTTL = 5 * time.Second

// MinLeaseTTL keeps the renewal period (TTL/3) well above a Redis round
// trip on a loaded machine.
const MinLeaseTTL = time.Second

var leaseSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "enabled"}, {Name: "ttl"}},
}

func (d *decoder) lease(b *hcl.Block, l *Lease) {
	s := d.content(b.Body, leaseSchema)
	s.boolean("enabled", &l.Enabled)
	s.duration("ttl", &l.TTL, func(v time.Duration) string {
		if v < MinLeaseTTL {
			return fmt.Sprintf("must be at least %s, got %q", MinLeaseTTL, v.String())
		}
		return ""
	})
}
