package fleetsim

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"time"
)

// subscriber is one host's daemon as Redis sees its subscription: a
// connection that SUBSCRIBEs to every event type's channel and reads all
// that comes. It counts bytes instead of decoding them, so that the
// generator's own CPU goes to the load rather than to parsing 10 000
// streams of envelopes on the same two cores.
type subscriber struct {
	conn  net.Conn
	bytes atomic.Int64
	cut   atomic.Bool // Redis closed the connection (output buffer limit)
	// closing is set before close, so that the reader's error is not
	// taken for a cut.
	closing atomic.Bool
	done    chan struct{}
}

// subscribe connects to addr and subscribes to channels, returning once
// Redis confirmed every subscription.
func subscribe(addr string, channels []string) (*subscriber, error) {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	var cmd strings.Builder
	fmt.Fprintf(&cmd, "*%d\r\n$9\r\nSUBSCRIBE\r\n", len(channels)+1)
	for _, c := range channels {
		fmt.Fprintf(&cmd, "$%d\r\n%s\r\n", len(c), c)
	}
	if _, err := io.WriteString(conn, cmd.String()); err != nil {
		conn.Close()
		return nil, err
	}
	// Each confirmation is a 3-element array ending in the count of
	// subscriptions; the last one says len(channels).
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(conn)
	want := fmt.Sprintf(":%d", len(channels))
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("subscribe confirmation: %w", err)
		}
		if strings.TrimSpace(line) == want {
			break
		}
	}
	conn.SetReadDeadline(time.Time{})
	s := &subscriber{conn: conn, done: make(chan struct{})}
	go s.drain(r)
	return s, nil
}

func (s *subscriber) drain(r *bufio.Reader) {
	defer close(s.done)
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		s.bytes.Add(int64(n))
		if err != nil {
			if !s.closing.Load() {
				s.cut.Store(true)
			}
			return
		}
	}
}

// close ends the subscription and waits for its reader.
func (s *subscriber) close() {
	s.closing.Store(true)
	s.conn.Close()
	<-s.done
}
