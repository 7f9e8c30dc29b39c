// Sickapp is a tiny static program that misbehaves on request, packed into
// the FROM-scratch test image the Docker tests run (see
// internal/testenv.TestImage). Flags pick the illness:
//
//	sickapp --idle                          do nothing until SIGTERM
//	sickapp --cpu 1                         burn one core (or N)
//	sickapp --spike 2s                      burn a core briefly, then idle
//	sickapp --mem-mb-per-sec 10             grow memory steadily, touching every page
//	sickapp --alloc-mb 64                   allocate at once (OOM under a small --memory)
//	sickapp --exit 3 --after 2s             exit with a code after a delay
//	sickapp --exit 3 --last-words "panic: x" print a line to stderr right before that exit
//	sickapp --log "line" --log "password=x" print lines to stdout at start
//	sickapp --health-file /tmp/healthy --unhealthy-after 3s
//	                                        create the file, remove it after 3s
//	sickapp health [--health-file F]        exit 0 while the file exists: a HEALTHCHECK
//
// Flags combine. SIGTERM and SIGINT make it exit 0 at once, so that a
// docker stop is quick and its exit code is the program's, not the
// engine's kill.
package main
