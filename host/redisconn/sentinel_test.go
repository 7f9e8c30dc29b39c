package redisconn

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hemostat/hemostat/internal/testenv"
)

func TestOpenSentinel(t *testing.T) {
	master := testenv.StartRedis(t)
	sentinel := testenv.StartSentinel(t, "hemostat-master", master)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	client, closer, err := Open(ctx, Config{Addresses: []string{sentinel.Addr()}, SentinelMaster: "hemostat-master"}, nil)
	if err != nil {
		t.Fatalf("Open through Sentinel: %v", err)
	}
	defer closer.Close()
	if err := client.Set(ctx, "via-sentinel", "yes", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	// The write landed on the master the Sentinel named.
	if got := master.Client(t).Get(ctx, "via-sentinel").Val(); got != "yes" {
		t.Fatalf("master holds %q, want the value written through the Sentinel", got)
	}

	_, _, err = Open(ctx, Config{Addresses: []string{sentinel.Addr()}, SentinelMaster: "no-such-master"}, nil)
	if err == nil || !strings.Contains(err.Error(), `"no-such-master"`) {
		t.Fatalf("Open of an unknown master = %v, want an error naming it", err)
	}
}
