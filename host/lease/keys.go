package lease

import "github.com/hemostat/hemostat/host/protocol"

// Key is the lease key of an engine host. The braces are a Cluster hash
// tag: the key and its generation counter live in one slot, which the
// acquisition script needs.
func Key(host string) string { return protocol.Prefix + "lease:{" + host + "}" }

// GenKey is the counter of an engine host's fencing generations.
func GenKey(host string) string { return Key(host) + ":gen" }
