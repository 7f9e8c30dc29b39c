package supervisor

import (
	"os"

	"github.com/hashicorp/go-plugin"
)

// socketDir gives one plugin process a directory of its own for its
// go-plugin Unix sockets (PLUGIN_UNIX_SOCKET_DIR), removed once the
// process is gone. Left to itself, a plugin puts them in the temporary
// directory and removes them when it exits cleanly; one killed — crashed,
// hung past its deadline and killed, SIGKILLed by someone — leaves them
// there for good, one per death, which a plugin in a crash loop turns
// into thousands.
type socketDir string

// maxSocketPath is the longest path a Unix socket may have on Linux (108
// bytes with the terminating NUL) and most other systems (104).
const maxSocketPath = 103

// newSocketDir creates the directory and passes it to the process's
// environment. Where it cannot be created, or would make the socket's
// path too long (go-plugin names it "plugin" and up to ten digits), the
// plugin keeps go-plugin's default and "" is returned.
func newSocketDir(env []string) (socketDir, []string) {
	dir, err := os.MkdirTemp("", "hemostat-plugin-")
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
