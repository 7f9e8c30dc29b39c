package config

import (
	"testing"
	"time"
)

func TestLease(t *testing.T) {
	if got := mustParse(t, "").Lease; got != (Lease{Enabled: true, TTL: DefaultLeaseTTL}) {
		t.Fatalf("default lease %+v", got)
	}
	c := mustParse(t, "lease {\n  enabled = false\n  ttl = \"2s\"\n}\n")
	if c.Lease != (Lease{Enabled: false, TTL: 2 * time.Second}) {
		t.Fatalf("lease %+v, want disabled with a 2s ttl", c.Lease)
	}
}
