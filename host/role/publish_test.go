package role

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hemostat/hemostat/host/bus"
	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/internal/testenv"
)

// TestPublishSurvivesRedisOutage publishes while redis-server is down: the
// envelope goes out once it is back, instead of being lost.
func TestPublishSurvivesRedisOutage(t *testing.T) {
	srv := testenv.StartRedis(t)
	b := bus.New(srv.Client(t), bus.Options{Logger: hclog.NewNullLogger()})
	t.Cleanup(func() { b.Close(context.Background()) })
	p := &publisher{bus: b, agent: protocol.AgentMonitor, log: hclog.NewNullLogger()}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	srv.Stop(t)
	p.publish(ctx, protocol.TypeHealthAlert, protocol.HealthAlert{Container: "api", Issues: []string{"Exited with code 1"}}, "api")
	srv.Restart(t)
	rdb := srv.Client(t)
	deadline := time.Now().Add(15 * time.Second)
	for {
		raw, err := rdb.Get(ctx, protocol.EventLogKey(protocol.TypeHealthAlert)).Result()
		if err == nil && raw != "" && raw != "[]" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the alert published during the outage never reached Redis")
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	p.wait()
}
