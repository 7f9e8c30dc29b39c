package redisconn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hemostat/hemostat/internal/testenv"
	"github.com/redis/go-redis/v9"
)

func TestNodeFailure(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"no error", nil, false},
		{"a reply: nil", redis.Nil, false},
		{"a reply wrapped", fmt.Errorf("lease: %w", redis.Nil), false},
		{"the caller gave up", context.Canceled, false},
		{"the client is closed", redis.ErrClosed, false},
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, true},
		{"connection reset mid-reply", io.EOF, true},
		{"timed out", fmt.Errorf("renew: %w", context.DeadlineExceeded), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := nodeFailure(tc.err); got != tc.want {
				t.Errorf("nodeFailure(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

// TestClusterFailoverGap SIGKILLs the master serving a key while a client
// from Open writes it every 20 ms, and checks that writes succeed again
// soon after a replica takes over. With go-redis's defaults the client
// keeps dialling the dead master until its slot map is a minute old, so
// this fails without the reload (the bound is half that minute).
// HEMOSTAT_CLUSTER_BASELINE=1 runs a client with go-redis's defaults beside
// it, for the figure.
func TestClusterFailoverGap(t *testing.T) {
	cluster := testenv.StartCluster(t)
	ctx := context.Background()
	client, closer, err := Open(ctx, Config{Addresses: cluster.Addrs()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	writers := map[string]redis.UniversalClient{"hemostat": client}
	giveUp := 30 * time.Second
	if os.Getenv("HEMOSTAT_CLUSTER_BASELINE") == "1" {
		writers["go-redis defaults"] = cluster.Client(t)
		giveUp = 90 * time.Second
	}

	const key = "hemostat:lease:{web-host}"
	for name, c := range writers {
		if err := c.Set(ctx, key, name, 0).Err(); err != nil {
			t.Fatalf("%s: first write: %v", name, err)
		}
	}
	start := time.Now()
	var wg sync.WaitGroup
	gaps := map[string]time.Duration{}
	var mu sync.Mutex
	for name, c := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			gap, err := firstWriteAfter(c, key, start, giveUp)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("%s: %v", name, err)
				return
			}
			gaps[name] = gap
		}()
	}
	takeover := cluster.KillMaster(t, key)
	wg.Wait()
	t.Logf("replica serving %.1f s after the SIGKILL; first write after it: %v", takeover.Seconds(), gaps)
}

// firstWriteAfter writes key every 20 ms from since on and returns how long
// after since the first write that followed a failed one succeeded, or an
// error if none did within giveUp.
func firstWriteAfter(c redis.UniversalClient, key string, since time.Time, giveUp time.Duration) (time.Duration, error) {
	failed := false
	var last error
	for time.Since(since) < giveUp {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Set(ctx, key, since.String(), 0).Err()
		cancel()
		switch {
		case err != nil:
			failed, last = true, err
		case failed:
			return time.Since(since), nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !failed {
		return 0, errors.New("no write failed: the master was not killed under the client")
	}
	return 0, fmt.Errorf("no write succeeded within %v of the master's SIGKILL (last error: %v)", giveUp, last)
}
