//go:build linux

package supervisor

import (
	"os"
	"os/exec"
	"strconv"
	"testing"
)

// A host that dies without running any cleanup (SIGKILL, a crash) must
// still take its plugins with it.
func TestPluginDiesWithKilledHost(t *testing.T) {
	host := exec.Command(self(t), orphanHostArg, pluginBinary(t, "analyzer"))
	stdin, err := host.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := host.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	host.Stderr = os.Stderr
	if err := host.Start(); err != nil {
		t.Fatal(err)
	}
	line := readLine(t, stdout)
	pid, err := strconv.Atoi(line)
	if err != nil {
		host.Process.Kill()
		host.Wait()
		t.Fatalf("host: %s", line)
	}
	if processGone(pid) {
		t.Fatalf("plugin pid %d is not running", pid)
	}
	if err := host.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	host.Wait()
	waitFor(t, "the orphaned plugin to die", func() bool { return processGone(pid) })
}
