package httpapi

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/host/bus"
	"github.com/hemostat/hemostat/host/silence"
	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/prometheus/client_golang/prometheus"
)

// TestSilencesAPI drives the API through the Client `hemostatd silence`
// uses, against a real redis-server, with a token.
func TestSilencesAPI(t *testing.T) {
	srv := testenv.StartRedis(t)
	reg := prometheus.NewRegistry()
	b := bus.New(srv.Client(t), bus.Options{Logger: hclog.NewNullLogger(), Registerer: reg})
	t.Cleanup(func() { b.Close(context.Background()) })
	store := silence.NewStore(srv.Client(t), []string{"escalation", "false_alarm"})
	s, err := Listen(Options{Address: "127.0.0.1:0", Token: "sesame", Logger: hclog.NewNullLogger(), Gatherer: reg, Bus: b, Silences: store})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	if _, err := NewClient(s.Addr(), "wrong").Silences(ctx); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("a wrong token: %v, want 401", err)
	}
	c := NewClient(s.Addr(), "sesame")
	added, err := c.AddSilence(ctx, SilenceRequest{Container: "batch-*", Event: "false_alarm", Duration: "2h", Comment: "nightly", CreatedBy: "cli:ann"})
	if err != nil {
		t.Fatal(err)
	}
	if added.ID == "" || added.CreatedBy != "cli:ann" || time.Until(added.Ends) < 119*time.Minute {
		t.Errorf("added %+v", added)
	}
	for _, bad := range []SilenceRequest{
		{Container: "x[", Duration: "1h"},
		{Container: "x", Duration: "soon"},
		{Container: "x", Event: "lunch", Duration: "1h"},
		{Container: "x"},
	} {
		if _, err := c.AddSilence(ctx, bad); err == nil || !strings.Contains(err.Error(), "invalid silence") {
			t.Errorf("AddSilence(%+v) = %v, want an invalid-silence error", bad, err)
		}
	}
	list, err := c.Silences(ctx)
	if err != nil || len(list) != 1 || list[0].ID != added.ID {
		t.Fatalf("list = %+v, %v", list, err)
	}
	exp, err := c.ExpireSilence(ctx, added.ID)
	if err != nil || exp.Active(time.Now()) {
		t.Fatalf("expire = %+v, %v", exp, err)
	}
	if _, err := c.ExpireSilence(ctx, "nope"); err == nil || !strings.Contains(err.Error(), "no such silence") {
		t.Errorf("expire unknown = %v", err)
	}
}
