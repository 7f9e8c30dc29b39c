package role

import (
	"testing"

	"github.com/hemostat/hemostat/sdk"
)

func TestContainersResolve(t *testing.T) {
	const (
		redisID = "4f1c2a9d8e7b6a5c4f1c2a9d8e7b6a5c4f1c2a9d8e7b6a5c4f1c2a9d8e7b6a5c"
		twinA   = "abcdef0123456789aaaa000000000000000000000000000000000000000000aa"
		twinB   = "abcdef0123456789bbbb000000000000000000000000000000000000000000bb"
		goneID  = "0000111122223333444455556666777788889999aaaabbbbccccddddeeeeffff"
	)
	c := NewContainers()
	c.Observe(sdk.Sample{ID: redisID, Container: "/app-redis"})
	c.Observe(sdk.Sample{ID: twinA, Container: "a"})
	c.Observe(sdk.Sample{ID: twinB, Container: "b"})
	c.Observe(sdk.Sample{ID: goneID, Container: "gone"})
	c.Observe(sdk.Sample{ID: goneID, Container: "gone", Event: sdk.EventDestroy})
	tests := []struct {
		ref, want string
		ok        bool
	}{
		{"app-redis", "app-redis", true},
		{"/app-redis", "app-redis", true},
		{redisID, "app-redis", true},
		{redisID[:12], "app-redis", true},
		{redisID[:11], "", false},           // shorter than a short ID
		{"ABCDEF012345", "", false},         // IDs are lower-case hex
		{"abcdef012345", "", false},         // ambiguous prefix
		{"abcdef0123456789aaaa", "a", true}, // unambiguous once longer
		{goneID, "", false},                 // destroyed
		{"unknown", "", false},              // never reported
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := c.Resolve(tt.ref)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Resolve(%q) = %q, %v; want %q, %v", tt.ref, got, ok, tt.want, tt.ok)
		}
	}
	var nilIndex *Containers
	if _, ok := nilIndex.Resolve("x"); ok {
		t.Error("a nil index resolved something")
	}
}
