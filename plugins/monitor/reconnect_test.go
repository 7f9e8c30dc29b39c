package monitor

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/hemostat/hemostat/sdk"
)

// cutProxy forwards loopback TCP to the engine's unix socket and can cut
// every connection on demand: an engine restart as the plugin sees it,
// without restarting an engine other tests share.
type cutProxy struct {
	t      *testing.T
	addr   string
	socket string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func newCutProxy(t *testing.T, socket string) *cutProxy {
	p := &cutProxy{t: t, addr: "127.0.0.1:0", socket: socket, conns: map[net.Conn]struct{}{}}
	p.restore()
	t.Cleanup(p.cut)
	return p
}

// restore listens again, on the same port after a cut.
func (p *cutProxy) restore() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxy listen: %v", err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.forward(c)
		}
	}()
}

func (p *cutProxy) forward(c net.Conn) {
	up, err := net.Dial("unix", p.socket)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	pipe := func(dst, src net.Conn) {
		defer p.wg.Done()
		io.Copy(dst, src)
		dst.Close()
		src.Close()
	}
	p.wg.Add(2)
	go pipe(up, c)
	go pipe(c, up)
}

// cut closes the listener and every open connection.
func (p *cutProxy) cut() {
	p.mu.Lock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
	p.mu.Unlock()
	p.wg.Wait()
}

// TestReconnectReportsWhatHappenedDuringTheGap cuts the plugin off the
// engine, changes containers while it is blind, and expects every change
// reported once it is back.
func TestReconnectReportsWhatHappenedDuringTheGap(t *testing.T) {
	cli := testenv.Docker(t)
	u, err := url.Parse(cli.DaemonHost())
	if err != nil || u.Scheme != "unix" {
		t.Fatalf("this test proxies a unix socket; the engine is at %q", cli.DaemonHost())
	}
	proxy := newCutProxy(t, u.Path)
	rec := startMonitor(t, map[string]any{"docker_host": "tcp://" + proxy.addr, "interval": "1s"})

	dies, diesID := runSickapp(t, cli, container.Config{}, nil, "--log", "bye", "--exit", "5", "--after", "3s")
	pauses, pausesID := runSickapp(t, cli, container.Config{}, nil, "--idle")
	goes, goesID := runSickapp(t, cli, container.Config{}, nil, "--idle")
	for _, name := range []string{dies, pauses, goes} {
		rec.waitFor(t, name, eventTimeout, "start", event(sdk.EventStart))
	}

	proxy.cut()
	ctx := context.Background()
	waitExited(t, cli, diesID)
	if err := cli.ContainerPause(ctx, pausesID); err != nil {
		t.Fatal(err)
	}
	if err := cli.ContainerRemove(ctx, goesID, container.RemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	arrives, _ := runSickapp(t, cli, container.Config{}, nil, "--idle")
	for _, name := range []string{dies, pauses, goes} {
		if s := rec.all(name); len(s) > 0 && s[len(s)-1].Event != sdk.EventStart && s[len(s)-1].Event != "" {
			t.Fatalf("%s reported while the plugin was cut off: %s", name, describe(s))
		}
	}
	proxy.restore()

	if s := rec.waitFor(t, dies, eventTimeout, "die", event(sdk.EventDie)); s.ExitCode != 5 || s.Status != "exited" || len(s.LogTail) != 1 || s.LogTail[0] != "bye" {
		t.Errorf("die missed during the gap = %+v, want exit 5 with the log tail", s)
	}
	if s := rec.waitFor(t, pauses, eventTimeout, "pause", event(sdk.EventPause)); s.Status != "paused" {
		t.Errorf("pause missed during the gap = %+v", s)
	}
	if s := rec.waitFor(t, goes, eventTimeout, "destroy", event(sdk.EventDestroy)); s.Status != "removed" {
		t.Errorf("destroy missed during the gap = %+v", s)
	}
	rec.waitFor(t, arrives, eventTimeout, "start", event(sdk.EventStart))

	// Back to normal: live events flow again.
	if err := cli.ContainerUnpause(ctx, pausesID); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, pauses, eventTimeout, "unpause", event(sdk.EventUnpause))
	for _, name := range []string{dies, pauses, goes, arrives} {
		counts := map[string]int{}
		for _, s := range rec.all(name) {
			counts[s.Event]++
		}
		for ev, n := range counts {
			if ev != "" && n > 1 {
				t.Errorf("%s: %d %q samples, want one: %s", name, n, ev, describe(rec.all(name)))
			}
		}
	}
}

// TestWatchWaitsForEngine starts Watch against an address where nothing
// listens yet, then brings the engine up behind it.
func TestWatchWaitsForEngine(t *testing.T) {
	cli := testenv.Docker(t)
	u, _ := url.Parse(cli.DaemonHost())
	proxy := newCutProxy(t, u.Path)
	proxy.cut()

	m := New()
	m.SetLogger(testLogger(t))
	if err := m.Configure(context.Background(), []byte(`{"docker_host": "tcp://`+proxy.addr+`"}`), nil); err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Watch(ctx, rec.emit) }()
	time.Sleep(time.Second)
	proxy.restore()
	name, _ := runSickapp(t, cli, container.Config{}, nil, "--idle")
	rec.waitFor(t, name, eventTimeout, "state or start", func(s sdk.Sample) bool { return s.Event == sdk.EventStart || s.Event == "" })

	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("Watch = %v, want nil after its context ended", err)
	}
}
