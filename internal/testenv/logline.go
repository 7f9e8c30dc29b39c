package testenv

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
)

// WaitLogLine follows container id's stdout until a line equal to line
// appears, failing t if the container's output ends or dockerTimeout
// passes first. The test image prints its --log lines after it has set up
// its SIGTERM handler, so a test that stops a container right after its
// start waits for one: a Go program signalled before then, as PID 1,
// exits with code 2 instead of its handler's 0.
func WaitLogLine(t testing.TB, cli *client.Client, id, line string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), dockerTimeout)
	defer cancel()
	rc, err := cli.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, Follow: true})
	if err != nil {
		t.Fatalf("testenv: follow the logs of %s: %v", id, err)
	}
	defer rc.Close()
	pr, pw := io.Pipe()
	go func() { _, err := stdcopy.StdCopy(pw, io.Discard, rc); pw.CloseWithError(err) }()
	defer pr.Close()
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == line {
			return
		}
	}
	t.Fatalf("testenv: %s never printed %q: %v", id, line, ctx.Err())
}
