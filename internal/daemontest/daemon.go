package daemontest

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

const (
	// healthyTimeout bounds how long a starting hemostatd may take to
	// answer /healthz: it starts every plugin subprocess first.
	healthyTimeout = 30 * time.Second
	// stopTimeout bounds how long hemostatd may take to exit after a stop
	// signal before it is killed and the test fails.
	stopTimeout = 20 * time.Second
)

// Options says how to run one hemostatd.
type Options struct {
	// Config is the HCL text of the configuration file.
	Config string
	// HTTP is the address Config's http block serves on: Start waits for
	// /healthz there and the status and metrics helpers read from it.
	HTTP string
}

// Daemon is one hemostatd process under test.
type Daemon struct {
	t       testing.TB
	http    string
	cfgPath string
	cmd     *exec.Cmd
	logs    *logBuffer
	exited  chan struct{}
	exitErr error // set before exited is closed
}

// Start writes opts.Config to a file and runs hemostatd on it until the test
// ends, returning once it answers /healthz. It fails the test with
// hemostatd's log if hemostatd exits first or is not healthy in time. When
// the test ends hemostatd is stopped with SIGTERM and, if the test failed,
// its log is written to the test's.
func Start(t testing.TB, opts Options) *Daemon {
	t.Helper()
	bin := Hemostatd(t)
	cfgPath := filepath.Join(t.TempDir(), "hemostat.hcl")
	if err := os.WriteFile(cfgPath, []byte(opts.Config), 0o600); err != nil {
		t.Fatal(err)
	}
	d := &Daemon{t: t, http: opts.HTTP, cfgPath: cfgPath, logs: &logBuffer{}, exited: make(chan struct{})}
	d.cmd = exec.Command(bin, "-config", cfgPath)
	d.cmd.Stdout, d.cmd.Stderr = d.logs, d.logs
	// hemostatd sets the parent-death signal on its plugins; this covers
	// hemostatd itself should the test binary die.
	d.cmd.SysProcAttr = childAttr()
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		d.exitErr = d.cmd.Wait()
		close(d.exited)
	}()
	t.Cleanup(func() {
		d.Stop()
		if t.Failed() {
			t.Logf("hemostatd log:\n%s", d.logs.String())
		}
	})
	d.waitHealthy()
	return d
}

// PID is hemostatd's process ID.
func (d *Daemon) PID() int { return d.cmd.Process.Pid }

// waitHealthy polls /healthz until it answers 200.
func (d *Daemon) waitHealthy() {
	d.t.Helper()
	deadline := time.Now().Add(healthyTimeout)
	for !d.healthy() {
		select {
		case <-d.exited:
			d.t.Fatalf("hemostatd exited at start-up: %v\n%s", d.exitErr, d.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("hemostatd did not become healthy within %s:\n%s", healthyTimeout, d.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop sends SIGTERM and waits for hemostatd to exit; see StopWith.
func (d *Daemon) Stop() error {
	return d.StopWith(syscall.SIGTERM)
}

// StopWith sends sig and waits for hemostatd to exit, returning how it
// exited (nil for a clean exit). If it has not exited within stopTimeout it
// is killed and the test fails. Once hemostatd has exited, StopWith only
// returns how.
func (d *Daemon) StopWith(sig os.Signal) error {
	return d.stop(sig, func() { d.cmd.Process.Signal(sig) })
}

// StopGroup sends sig to hemostatd's whole process group, its plugins
// included, as systemd or a terminal does, and waits like StopWith.
func (d *Daemon) StopGroup(sig syscall.Signal) error {
	return d.stop(sig, func() { signalGroup(d.cmd.Process.Pid, sig) })
}

func (d *Daemon) stop(sig os.Signal, send func()) error {
	select {
	case <-d.exited:
		return d.exitErr
	default:
	}
	send()
	select {
	case <-d.exited:
	case <-time.After(stopTimeout):
		d.cmd.Process.Kill()
		<-d.exited
		d.t.Errorf("hemostatd did not stop within %s of %v", stopTimeout, sig)
	}
	return d.exitErr
}

// Alive fails the test when hemostatd has exited.
func (d *Daemon) Alive(t testing.TB) {
	t.Helper()
	select {
	case <-d.exited:
		t.Fatalf("hemostatd exited: %v", d.exitErr)
	default:
	}
}

// Reload replaces the config file's text with config and sends SIGHUP,
// as an operator does after editing the file. It does not wait.
func (d *Daemon) Reload(t testing.TB, config string) {
	t.Helper()
	if err := os.WriteFile(d.cfgPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatalf("SIGHUP: %v", err)
	}
}

// Logs returns everything hemostatd has written to stdout and stderr.
func (d *Daemon) Logs() string {
	return d.logs.String()
}
