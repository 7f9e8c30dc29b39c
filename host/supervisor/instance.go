package supervisor

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-plugin"
	"github.com/hemostat/hemostat/sdk"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health/grpc_health_v1"
)

// instance is one running process of a plugin. A restart replaces the
// whole instance; nothing of it is reused.
type instance struct {
	client  *plugin.Client
	cmd     *exec.Cmd
	conn    *grpc.ClientConn
	base    sdk.Base
	raw     any // the role client: *sdk.AnalyzerClient, ...
	info    sdk.Info
	pid     int
	started time.Time
	// spec is what the process was started with: a reload may run the
	// next process of the same plugin with another deadline or binary.
	spec Spec
	// inflight counts the role calls under way, streams aside, so that a
	// process replaced by a reload finishes them before it is stopped.
	inflight atomic.Int64
	// stderr is the tail of what the process wrote to stderr.
	stderr *stderrTail
	// sockets is the process's own directory for its sockets.
	sockets socketDir
}

// deathNote says in the plugin's own words why the process died: its
// panic, or its last stderr lines if it exited by itself. "" if it says
// nothing of use. Only after kill, which waits until stderr is read.
func (in *instance) deathNote() string {
	if in.stderr == nil {
		return ""
	}
	return in.stderr.note(in.cmd.ProcessState)
}

// explain returns err, or, when the process died by itself, an error that
// reads as the plugin's own last words and wraps err. Only after kill.
func (in *instance) explain(err error) error {
	if note := in.deathNote(); note != "" {
		return &diedError{prefix: fmt.Sprintf("plugin %s: ", in.spec.label()), note: note, err: err}
	}
	return err
}

// ping asks the plugin's gRPC health service whether it is alive, within
// timeout. go-plugin's own Ping takes no context, so a frozen plugin would
// block it for good.
func (in *instance) ping(ctx context.Context, timeout time.Duration) error {
	if in.client.Exited() {
		return errExited
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err := grpc_health_v1.NewHealthClient(in.conn).Check(ctx, &grpc_health_v1.HealthCheckRequest{Service: plugin.GRPCServiceName})
	switch {
	case err == nil:
		return nil
	case in.client.Exited():
		return errExited
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("plugin did not answer a ping within %s", timeout)
	}
	return fmt.Errorf("ping: %w", err)
}

// kill ends a process that is broken or no longer wanted: SIGKILL at once,
// since a hung plugin would only eat go-plugin's grace period, then
// go-plugin's cleanup, which reaps the process and its log pipes.
func (in *instance) kill() {
	if in.cmd.Process != nil {
		_ = in.cmd.Process.Kill() // an exited process is fine
	}
	in.client.Kill()
	in.sockets.remove()
}

// stop ends a healthy process politely: the Shutdown RPC lets the plugin
// release what it holds, then go-plugin closes the connection and waits
// briefly for the exit. Past ctx's deadline the process is killed.
func (in *instance) stop(ctx context.Context) error {
	var err error
	if !in.client.Exited() && ctx.Err() == nil {
		err = in.base.Shutdown(ctx)
	}
	if ctx.Err() != nil {
		in.kill()
		return err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		in.client.Kill()
	}()
	select {
	case <-done:
	case <-ctx.Done():
		// The plugin ignores the close; do not wait out go-plugin's grace.
		if in.cmd.Process != nil {
			_ = in.cmd.Process.Kill()
		}
		<-done
	}
	in.sockets.remove()
	return err
}
