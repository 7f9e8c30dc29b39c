package supervisor

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// socketDir gives one plugin process a directory of its own for its
// go-plugin Unix sockets (PLUGIN_UNIX_SOCKET_DIR), removed once the
// process is gone. Left to itself, a plugin puts them in the temporary
// directory and removes them when it exits cleanly; one killed — crashed,
// hung past its deadline and killed, SIGKILLed by someone — leaves them
// there for good, one per death, which a plugin in a crash loop turns
// into thousands. The directory's name carries hemostatd's PID, so that a
// hemostatd started after one that was killed — whose plugins died with
// it, their directories left behind — removes them (removeStaleSocketDirs).
type socketDir string

// socketDirPrefix begins every socket directory's name.
const socketDirPrefix = "hemostat-plugin-"

// maxSocketPath is the longest path a Unix socket may have on Linux (108
// bytes with the terminating NUL) and most other systems (104).
const maxSocketPath = 103

// newSocketDir creates the directory and passes it to the process's
// environment. Where it cannot be created, or would make the socket's
// path too long (go-plugin names it "plugin" and up to ten digits), the
// plugin keeps go-plugin's default and "" is returned.
func newSocketDir(env []string) (socketDir, []string) {
	dir, err := os.MkdirTemp("", fmt.Sprintf("%s%d-", socketDirPrefix, os.Getpid()))
	if err != nil {
		return "", env
	}
	if len(dir)+len("/plugin")+10 > maxSocketPath {
		_ = os.Remove(dir)
		return "", env
	}
	return socketDir(dir), append(env, plugin.EnvUnixSocketDir+"="+dir)
}

// remove deletes the directory and the sockets a killed process left in
// it. Call it once the process has exited.
func (d socketDir) remove() {
	if d != "" {
		_ = os.RemoveAll(string(d))
	}
}

// removeStaleSocketDirs removes, from the temporary directory, the socket
// directories of hemostatd processes that no longer run, and returns how
// many. A directory whose hemostatd's PID is taken by some process is
// left: it cannot be told from a live one.
func removeStaleSocketDirs(logger hclog.Logger) int {
	entries, err := os.ReadDir(os.TempDir())
	if err != nil {
		return 0
	}
	removed := 0
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), socketDirPrefix)
		if !ok || !e.IsDir() {
			continue
		}
		pidText, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid <= 0 || pid == os.Getpid() || processExists(pid) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(os.TempDir(), e.Name())); err == nil {
			removed++
		}
	}
	if removed > 0 {
		logger.Info("removed plugin socket directories a killed hemostatd left behind", "count", removed)
	}
	return removed
}
