package dockerresponder

import (
	"strings"

	"github.com/docker/docker/api/types/container"
)

// minIDPrefix is the shortest ID prefix taken as naming a container: the
// length of the short IDs the engine prints.
const minIDPrefix = 12

// refersTo reports whether ref names c. The host passes a container's name,
// and its safety gate judged that name; but when no container has the name,
// the engine's lookup falls back to an ID prefix, so a vanished "db" or
// "cafe" resolves to whichever container's ID starts with those letters.
// Only the name itself, the full ID or an ID prefix as long as a short ID
// is taken as the container asked for.
func refersTo(c container.InspectResponse, ref string) bool {
	switch {
	case ref == "":
		return false
	case ref == c.ID:
		return true
	case strings.TrimPrefix(ref, "/") == strings.TrimPrefix(c.Name, "/"):
		return true
	}
	return len(ref) >= minIDPrefix && isHex(ref) && strings.HasPrefix(c.ID, ref)
}

func isHex(s string) bool {
	for _, r := range s {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') {
			return false
		}
	}
	return true
}
