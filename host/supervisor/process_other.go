//go:build !unix

package supervisor

// processExists cannot tell here: every process is taken to run, so that
// nothing of a live hemostatd is removed.
func processExists(int) bool { return true }
