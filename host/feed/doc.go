// Package feed fans every envelope published on the bus out to HTTP
// clients (the dashboard's Server-Sent Events stream). It listens with a
// pattern subscription of its own, so it shows the envelopes of every type,
// external agents' included, and each client has a bounded buffer: a
// client that does not keep up is cut, and neither the bus nor the other
// clients wait for it.
package feed
