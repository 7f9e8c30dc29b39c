package feed

import (
	"strings"
	"testing"
)

// TestHubCutsOnlyTheSlowClient: a client with room gets every message in
// order; one whose buffer is full is cut at once, and Publish never waits.
func TestHubCutsOnlyTheSlowClient(t *testing.T) {
	h := NewHub(nil)
	fast, slow := h.Join(10), h.Join(2)
	for i := range 5 {
		h.Publish(Message{Type: "t", Data: []byte{byte('0' + i)}})
		<-fast.C // reads as it goes
	}
	select {
	case <-slow.Cut():
	default:
		t.Fatal("the slow client was not cut")
	}
	select {
	case <-fast.Cut():
		t.Fatal("the fast client was cut")
	default:
	}
	if h.Clients() != 1 {
		t.Errorf("%d clients, want the fast one", h.Clients())
	}
	h.Leave(slow) // after a cut: harmless
	h.Leave(fast)
	h.Leave(fast)
	if h.Clients() != 0 {
		t.Errorf("%d clients after both left", h.Clients())
	}
}

// TestEncode: an envelope becomes one line; anything else, or a channel
// name that could break the event line, is dropped.
func TestEncode(t *testing.T) {
	env := "{\n  \"timestamp\": \"2026-01-02T03:04:05.000000\",\n  \"agent\": \"x\",\n  \"type\": \"note\",\n  \"data\": {\"container\": \"a\"}\n}"
	m, ok := Encode("hemostat:note", env)
	if !ok || m.Type != "note" || strings.Contains(string(m.Data), "\n") {
		t.Fatalf("Encode = %q %v, want one line of type note", m.Data, ok)
	}
	for _, tc := range []struct{ channel, payload string }{
		{"hemostat:note", "not json"},
		{"hemostat:other", env},  // the type must match the channel
		{"hemostat:no\nte", env}, // a newline in the type
		{"elsewhere:note", env},  // not a hemostat channel
	} {
		if _, ok := Encode(tc.channel, tc.payload); ok {
			t.Errorf("Encode(%q, %.20q) accepted", tc.channel, tc.payload)
		}
	}
}
