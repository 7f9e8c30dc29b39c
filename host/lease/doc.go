// Package lease elects, among the hemostatd daemons that share one Redis
// and one Docker engine, the single one that acts on that engine.
//
// The lease is the key hemostat:lease:{<host>}, taken with SET NX PX ttl
// and renewed every ttl/3 by a script that extends it only while it still
// holds this daemon's value; a clean shutdown deletes it the same way. Each
// acquisition takes a fencing generation from INCR hemostat:lease:{<host>}:gen
// and writes it into the value, "<daemon id>:<generation>". Both keys carry
// the host in a hash tag, so that every script touches one Cluster slot.
//
// The holder's own view of the lease ends ttl minus a margin after the last
// renewal that Redis confirmed, measured from before that renewal was sent:
// a daemon paused (SIGSTOP, a stalled VM) past its lease finds on waking
// that its lease has lapsed before it looks at anything else, and a lapse
// always costs the generation. Work fenced with Check is refused once the
// generation it began under is not the one Redis holds.
package lease
