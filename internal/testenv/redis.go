package testenv

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisStartTimeout bounds how long a starting redis-server may take to
// answer its first PING.
const redisStartTimeout = 10 * time.Second

// redisStopTimeout bounds how long a stopping redis-server may take to exit
// after SIGTERM before it is killed.
const redisStopTimeout = 10 * time.Second

// RedisServer is a real redis-server started for one test, listening on
// 127.0.0.1 with persistence off and its working directory in the test's
// temporary directory.
type RedisServer struct {
	bin  string
	dir  string
	port int
	// conf, if set, is a config file written before each start and given
	// to redis-server first (Sentinel needs one it can rewrite).
	conf func(port int) string
	args []string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// StartRedis starts a redis-server on a free loopback port and stops it
// when the test ends. extraArgs are passed on to redis-server, e.g.
// "--requirepass", "secret". The test fails if redis-server is not
// installed or does not answer PING within a few seconds.
func StartRedis(t testing.TB, extraArgs ...string) *RedisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("testenv: redis-server is not installed (%v); these tests need a real Redis — install the redis-server package", err)
	}
	s := &RedisServer{bin: bin, dir: t.TempDir(), args: extraArgs}
	s.launch(t)
	return s
}

// SentinelOption tunes a Sentinel started by StartSentinel.
type SentinelOption func(*sentinelConf)

type sentinelConf struct {
	quorum    int
	downAfter time.Duration
}

// SentinelQuorum sets how many Sentinels must agree the master is down
// (default 1).
func SentinelQuorum(n int) SentinelOption { return func(c *sentinelConf) { c.quorum = n } }

// SentinelDownAfter sets how long the master may be silent before a
// Sentinel thinks it down (Redis's default is 30 s, too long for tests).
func SentinelDownAfter(d time.Duration) SentinelOption {
	return func(c *sentinelConf) { c.downAfter = d }
}

// StartSentinel starts a Redis Sentinel on a free loopback port that
// monitors master under masterName, and stops it when the test ends.
func StartSentinel(t testing.TB, masterName string, master *RedisServer, opts ...SentinelOption) *RedisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("testenv: redis-server is not installed (%v); these tests need a real Redis — install the redis-server package", err)
	}
	c := sentinelConf{quorum: 1}
	for _, o := range opts {
		o(&c)
	}
	s := &RedisServer{bin: bin, dir: t.TempDir(), args: []string{"--sentinel"}}
	s.conf = func(port int) string {
		conf := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nsentinel monitor %s 127.0.0.1 %d %d\n",
			port, s.dir, masterName, master.port, c.quorum)
		if c.downAfter > 0 {
			conf += fmt.Sprintf("sentinel down-after-milliseconds %s %d\nsentinel failover-timeout %s %d\n",
				masterName, c.downAfter.Milliseconds(), masterName, (10 * c.downAfter).Milliseconds())
		}
		return conf
	}
	s.launch(t)
	return s
}

// launch starts the server on a fresh free port and registers its stop.
func (s *RedisServer) launch(t testing.TB) {
	t.Helper()
	// Another process may take the free port between our probe and
	// redis-server's bind; a fresh port on the next attempt fixes that.
	const attempts = 3
	for i := 1; ; i++ {
		port, err := freePort()
		if err != nil {
			t.Fatalf("testenv: find a free port for redis-server: %v", err)
		}
		s.port = port
		if err = s.start(); err == nil {
			break
		}
		if i == attempts {
			t.Fatalf("testenv: start redis-server: %v", err)
		}
	}
	t.Cleanup(func() { s.stop() })
}

// Addr is the server's host:port.
func (s *RedisServer) Addr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
}

// Port is the server's TCP port.
func (s *RedisServer) Port() int { return s.port }

// Client returns a go-redis client for the server, closed when the test
// ends. It does not authenticate; a test that started the server with
// --requirepass builds its own client.
func (s *RedisServer) Client(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr()})
	t.Cleanup(func() { c.Close() })
	return c
}

// Stop shuts the server down; clients see their connections drop.
func (s *RedisServer) Stop(t testing.TB) {
	t.Helper()
	if err := s.stop(); err != nil {
		t.Fatalf("testenv: stop redis-server on %s: %v", s.Addr(), err)
	}
}

// Kill ends the server with SIGKILL, as a crash or the OOM killer would:
// no shutdown, clients see their connections reset. Restart brings it back.
func (s *RedisServer) Kill(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.done
	s.cmd, s.done = nil, nil
}

// Restart starts the server again on the same port after Stop, with an
// empty data set (persistence is off). Tests use it to check reconnects.
func (s *RedisServer) Restart(t testing.TB) {
	t.Helper()
	if err := s.stop(); err != nil {
		t.Fatalf("testenv: stop redis-server on %s: %v", s.Addr(), err)
	}
	// The old listener may linger for a moment after the process exits.
	deadline := time.Now().Add(redisStartTimeout)
	for {
		err := s.start()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("testenv: restart redis-server on %s: %v", s.Addr(), err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *RedisServer) logFile() string { return filepath.Join(s.dir, "redis.log") }

// start launches redis-server on s.port and waits until it answers.
func (s *RedisServer) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("already running")
	}
	args := []string{
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--dir", s.dir,
		"--save", "",
		"--appendonly", "no",
		"--daemonize", "no",
		"--logfile", s.logFile(),
	}
	args = append(args, s.args...)
	if s.conf != nil {
		conf := filepath.Join(s.dir, "redis.conf")
		if err := os.WriteFile(conf, []byte(s.conf(s.port)), 0o600); err != nil {
			return err
		}
		args = append([]string{conf}, args...)
	}
	cmd := exec.Command(s.bin, args...)
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()

	if err := waitRedisReady(s.Addr(), done); err != nil {
		cmd.Process.Kill()
		<-done
		return fmt.Errorf("%w%s", err, s.logTail())
	}
	s.cmd, s.done = cmd, done
	return nil
}

// running reports whether the server's process is up (not stopped or
// killed by the test).
func (s *RedisServer) running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd != nil
}

// Freeze stops the server with SIGSTOP, as a hung Redis would be: its port
// accepts connections but nothing is answered. It is thawed when the test
// ends, or by Thaw.
func (s *RedisServer) Freeze(t testing.TB) {
	t.Helper()
	s.signal(t, syscall.SIGSTOP)
	t.Cleanup(func() { s.signal(t, syscall.SIGCONT) })
}

// Thaw resumes a frozen server with SIGCONT.
func (s *RedisServer) Thaw(t testing.TB) {
	t.Helper()
	s.signal(t, syscall.SIGCONT)
}

func (s *RedisServer) signal(t testing.TB, sig syscall.Signal) {
	s.mu.Lock()
	cmd := s.cmd
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	if err := cmd.Process.Signal(sig); err != nil {
		t.Errorf("signal redis-server %v: %v", sig, err)
	}
}

// stop terminates the server, if running, and waits for it to exit.
func (s *RedisServer) stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return nil
	}
	cmd, done := s.cmd, s.done
	s.cmd, s.done = nil, nil
	select {
	case <-done:
		return nil // it died on its own; nothing left to stop
	default:
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		cmd.Process.Kill()
	}
	select {
	case <-done:
		return nil
	case <-time.After(redisStopTimeout):
		cmd.Process.Kill()
		<-done
		return fmt.Errorf("did not exit within %s of SIGTERM; killed", redisStopTimeout)
	}
}

// waitRedisReady waits until the server at addr answers PING. A NOAUTH
// error counts as an answer: the server is up, it just wants a password.
func waitRedisReady(addr string, exited <-chan struct{}) error {
	deadline := time.Now().Add(redisStartTimeout)
	var lastErr error
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("redis-server exited during start")
		default:
		}
		lastErr = pingRaw(addr)
		if lastErr == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("no answer to PING on %s within %s: %v", addr, redisStartTimeout, lastErr)
}

// pingRaw speaks just enough RESP to see whether a Redis server answers.
func pingRaw(addr string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	switch {
	case strings.HasPrefix(line, "+PONG"), strings.HasPrefix(line, "-NOAUTH"):
		return nil
	default:
		return fmt.Errorf("unexpected reply %q", strings.TrimSpace(line))
	}
}

// logTail returns the end of the server's log, for error messages.
func (s *RedisServer) logTail() string {
	b, err := os.ReadFile(s.logFile())
	if err != nil || len(b) == 0 {
		return ""
	}
	const max = 2000
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return "\nredis-server log:\n" + string(b)
}

// freePort asks the kernel for a loopback port nobody is listening on.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
