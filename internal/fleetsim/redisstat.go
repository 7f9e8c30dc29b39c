package fleetsim

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// nodeStat is one redis-server's cumulative counters at one moment.
type nodeStat struct {
	cpu      float64 // used_cpu_user + used_cpu_sys, seconds
	commands int64   // total_commands_processed
	// cmdUsec is, per command name, the microseconds spent executing it
	// (commands run by a script are counted under their own name too).
	cmdUsec  map[string]int64
	cmdCalls map[string]int64
}

// readNode reads a node's INFO cpu, stats and commandstats.
func readNode(ctx context.Context, addr string) (nodeStat, error) {
	// A saturated Redis answers late: the figures are still wanted.
	c := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: time.Minute, ReadTimeout: time.Minute, MaxRetries: -1})
	defer c.Close()
	info, err := c.Info(ctx, "cpu", "stats", "commandstats").Result()
	if err != nil {
		return nodeStat{}, fmt.Errorf("fleetsim: INFO of %s: %w", addr, err)
	}
	st := nodeStat{cmdUsec: map[string]int64{}, cmdCalls: map[string]int64{}}
	for _, line := range strings.Split(info, "\n") {
		line = strings.TrimSpace(line)
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch {
		case k == "used_cpu_user" || k == "used_cpu_sys":
			f, _ := strconv.ParseFloat(v, 64)
			st.cpu += f
		case k == "total_commands_processed":
			st.commands, _ = strconv.ParseInt(v, 10, 64)
		case strings.HasPrefix(k, "cmdstat_"):
			name := strings.TrimPrefix(k, "cmdstat_")
			for _, f := range strings.Split(v, ",") {
				fk, fv, _ := strings.Cut(f, "=")
				n, _ := strconv.ParseInt(fv, 10, 64)
				switch fk {
				case "calls":
					st.cmdCalls[name] = n
				case "usec":
					st.cmdUsec[name] = n
				}
			}
		}
	}
	return st, nil
}

// readNodes reads every node, in addrs order.
func readNodes(ctx context.Context, addrs []string) ([]nodeStat, error) {
	out := make([]nodeStat, len(addrs))
	for i, a := range addrs {
		var err error
		if out[i], err = readNode(ctx, a); err != nil {
			return nil, err
		}
	}
	return out, nil
}
