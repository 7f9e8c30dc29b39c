package dockerresponder

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/hemostat/hemostat/sdk"
)

// ParamCommand picks the exec command: an index into exec_allowlist or
// the command written out, its arguments joined by single spaces.
const ParamCommand = "command"

// execCommand runs one allowlisted command in the container and reports
// its combined output (truncated to exec_output_limit) and exit code.
func execCommand(ctx context.Context, c *call) sdk.Result {
	argv, err := allowedCommand(c.cfg.ExecAllowlist, c.req.Params[ParamCommand])
	if err != nil {
		return rejected(err.Error())
	}
	if c.target.State == nil || !c.target.State.Running || c.target.State.Paused {
		return notApplicable(fmt.Sprintf("%s is not running (%s); exec needs a running container", c.name, describeState(c.target)))
	}
	if c.req.DryRun {
		return dryRun("run %q in %s", strings.Join(argv, " "), c.name)
	}

	ctx, cancel := context.WithTimeout(ctx, c.cfg.ExecTimeout.Std())
	defer cancel()
	created, err := c.cli.ContainerExecCreate(ctx, c.target.ID, container.ExecOptions{
		Cmd: argv, AttachStdout: true, AttachStderr: true,
	})
	if err != nil {
		return c.failure(ctx, "exec in", err)
	}
	attached, err := c.cli.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{})
	if err != nil {
		return c.failure(ctx, "exec in", err)
	}
	defer attached.Close()
	out := &limitedBuffer{limit: int(c.cfg.ExecOutputLimit)}
	// The engine multiplexes stdout and stderr on one stream; both go to
	// the same buffer, interleaved as they were written.
	copyErr := make(chan error, 1)
	go func() {
		_, err := stdcopy.StdCopy(out, out, attached.Reader)
		copyErr <- err
	}()
	select {
	case err = <-copyErr:
	case <-ctx.Done():
		attached.Close() // unblocks the copy
		<-copyErr
		err = ctx.Err()
	}
	if err != nil {
		return withExecOutput(c.failure(ctx, "read exec output of", fmt.Errorf("%w (the command may still run in the container)", err)), out)
	}
	inspected, err := c.cli.ContainerExecInspect(ctx, created.ID)
	if err != nil {
		return withExecOutput(c.failure(ctx, "exec in", err), out)
	}
	res := succeeded()
	if inspected.ExitCode != 0 {
		res = failed(fmt.Sprintf("%q exited with code %d", strings.Join(argv, " "), inspected.ExitCode))
	}
	res = withExecOutput(res, out)
	return withDetail(res, "exit_code", strconv.Itoa(inspected.ExitCode))
}

func withExecOutput(res sdk.Result, out *limitedBuffer) sdk.Result {
	res = withDetail(res, "output", out.String())
	if out.truncated {
		res = withDetail(res, "output_truncated", "true")
	}
	return res
}

// allowedCommand finds the command named by param in the allowlist.
func allowedCommand(allowlist [][]string, param string) ([]string, error) {
	if param == "" {
		return nil, fmt.Errorf("parameter %s is missing: name an exec_allowlist entry by index or as written", ParamCommand)
	}
	if i, err := strconv.Atoi(param); err == nil {
		if i < 0 || i >= len(allowlist) {
			return nil, fmt.Errorf("command %d is not in exec_allowlist (%d entries)", i, len(allowlist))
		}
		return allowlist[i], nil
	}
	for _, argv := range allowlist {
		if strings.Join(argv, " ") == param {
			return argv, nil
		}
	}
	return nil, fmt.Errorf("command %q is not in exec_allowlist", param)
}

// limitedBuffer keeps the first limit bytes written and drops the rest,
// remembering that it did. It never fails a write, so that the command's
// stream is drained to the end.
type limitedBuffer struct {
	buf       bytes.Buffer
	limit     int
	truncated bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.limit - b.buf.Len(); room < len(p) {
		b.truncated = true
		if room > 0 {
			b.buf.Write(p[:room])
		}
		return len(p), nil
	}
	b.buf.Write(p)
	return len(p), nil
}

// String returns the kept output as valid UTF-8 (protobuf strings must
// be): a cut through a character, or binary output, becomes U+FFFD.
func (b *limitedBuffer) String() string { return strings.ToValidUTF8(b.buf.String(), "\uFFFD") }
