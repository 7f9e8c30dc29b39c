package feed

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	hmetrics "github.com/hemostat/hemostat/host/metrics"
)

// Message is one envelope as published, compacted to one line.
type Message struct {
	Type string
	Data []byte
}

// Client is one subscriber of a Hub.
type Client struct {
	// C delivers the messages, in order.
	C   chan Message
	cut chan struct{}
}

// Cut is closed when the hub dropped the client for falling behind by
// more than its buffer.
func (c *Client) Cut() <-chan struct{} { return c.cut }

// Hub hands every message to every client without ever waiting for one.
type Hub struct {
	mu      sync.Mutex
	clients map[*Client]struct{}
	// listening mirrors len(clients), read without the lock: the tap
	// asks it for every envelope on the bus.
	listening atomic.Int64

	connected prometheus.Gauge
	cuts      prometheus.Counter
}

// NewHub returns a hub; reg, when set, receives its metrics.
func NewHub(reg prometheus.Registerer) *Hub {
	h := &Hub{
		clients: make(map[*Client]struct{}),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hemostat_http_stream_clients", Help: "Clients connected to /api/v1/stream.",
		}),
		cuts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hemostat_http_stream_cut_total", Help: "Stream clients cut because they fell further behind than their buffer.",
		}),
	}
	if reg != nil {
		h.connected = hmetrics.Register(reg, h.connected)
		h.cuts = hmetrics.Register(reg, h.cuts)
	}
	return h
}

// Join adds a client with room for buffer messages.
func (h *Hub) Join(buffer int) *Client {
	c := &Client{C: make(chan Message, buffer), cut: make(chan struct{})}
	h.mu.Lock()
	h.clients[c] = struct{}{}
	h.listening.Store(int64(len(h.clients)))
	h.mu.Unlock()
	h.connected.Inc()
	return c
}

// Leave removes a client; leaving twice, or after a cut, is harmless.
func (h *Hub) Leave(c *Client) {
	h.mu.Lock()
	_, ok := h.clients[c]
	delete(h.clients, c)
	h.listening.Store(int64(len(h.clients)))
	h.mu.Unlock()
	if ok {
		h.connected.Dec()
	}
}

// Publish hands m to every client whose buffer has room and cuts the
// others.
func (h *Hub) Publish(m Message) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		select {
		case c.C <- m:
		default:
			delete(h.clients, c)
			h.listening.Store(int64(len(h.clients)))
			close(c.cut)
			h.connected.Dec()
			h.cuts.Inc()
		}
	}
}

// Clients is how many clients are connected.
func (h *Hub) Clients() int { return int(h.listening.Load()) }
