package monitor

import (
	"bytes"
	"context"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/hemostat/hemostat/sdk/redact"
)

const (
	// logTailTimeout bounds the log fetch that delays a lifecycle sample.
	logTailTimeout = 2 * time.Second
	// maxLogLineBytes keeps one runaway line from bloating a sample.
	maxLogLineBytes = 1024
	// maxLogTailBytes bounds what is read from the engine in all.
	maxLogTailBytes = 256 << 10
)

// logTail returns the container's last n log lines, stdout and stderr
// interleaved as written, secrets redacted.
func logTail(ctx context.Context, cli *client.Client, id string, tty bool, n int, r *redact.Redactor) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, logTailTimeout)
	defer cancel()
	rc, err := cli.ContainerLogs(ctx, id, container.LogsOptions{
		ShowStdout: true,
		ShowStderr: true,
		Tail:       strconv.Itoa(n),
	})
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	src := io.LimitReader(rc, maxLogTailBytes)
	var buf bytes.Buffer
	if tty {
		_, err = io.Copy(&buf, src)
	} else {
		// Without a TTY the engine multiplexes both streams into frames.
		_, err = stdcopy.StdCopy(&buf, &buf, src)
	}
	if err != nil {
		return nil, err
	}
	return tailLines(buf.String(), n, r), nil
}

// tailLines splits text into its last n lines, redacted and trimmed to a
// sane length.
func tailLines(text string, n int, r *redact.Redactor) []string {
	// Redact the whole text before splitting and trimming: a private key
	// block spans lines, and a cut must not hide a secret's key from the
	// patterns.
	text = r.String(text)
	var lines []string
	for line := range strings.Lines(text) {
		line = strings.TrimRight(line, "\r\n")
		if len(line) > maxLogLineBytes {
			line = strings.ToValidUTF8(line[:maxLogLineBytes], "") + "…"
		}
		lines = append(lines, line)
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}
