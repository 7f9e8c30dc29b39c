package httpapi

import (
	"bufio"
	"errors"
	"net/http"
	"time"
)

// Stream settings. streamBuffer is each client's own backlog: a client
// further behind than that is cut (the hub never waits), and its
// EventSource reconnects and reloads what it missed from the API.
const (
	streamBuffer       = 1024
	streamPing         = 15 * time.Second
	streamWriteTimeout = 10 * time.Second
)

// stream sends every envelope on the bus as a Server-Sent Event named
// after its type, and a comment every streamPing so that proxies keep the
// connection open.
func (s *Server) stream(w http.ResponseWriter, r *http.Request) {
	if s.opts.Hub == nil {
		writeError(w, http.StatusServiceUnavailable, errNoStream)
		return
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	c := s.opts.Hub.Join(streamBuffer)
	defer s.opts.Hub.Leave(c)
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 32<<10)
	flush := func() bool {
		_ = rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
		return bw.Flush() == nil && rc.Flush() == nil
	}
	bw.WriteString(": hemostat stream\n\n")
	if !flush() {
		return
	}
	ping := time.NewTicker(streamPing)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-c.Cut():
			bw.WriteString("event: cut\ndata: {\"reason\":\"fell behind\"}\n\n")
			flush()
			return
		case <-ping.C:
			bw.WriteString(": ping\n\n")
		case m := <-c.C:
			writeEvent(bw, m.Type, m.Data)
			// Send what else is waiting in one write.
			for more := true; more; {
				select {
				case m := <-c.C:
					writeEvent(bw, m.Type, m.Data)
				default:
					more = false
				}
			}
		}
		if !flush() {
			return
		}
	}
}

func writeEvent(bw *bufio.Writer, eventType string, data []byte) {
	bw.WriteString("event: ")
	bw.WriteString(eventType)
	bw.WriteString("\ndata: ")
	bw.Write(data)
	bw.WriteString("\n\n")
}

var errNoStream = errors.New("the stream is not enabled")
