package fleetsim

import (
	"context"
	"fmt"
	"sort"
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

// RedisLoad is what Redis did over a measurement, per second.
type RedisLoad struct {
	// CPU is the cores all nodes used together; Busiest the busiest
	// node's (each node runs its commands on one thread).
	CPU, Busiest float64
	// Commands is commands per second, all nodes.
	Commands float64
	// Time is where the command time went, largest first. Commands run
	// by a script or a MULTI count under their own names; EVALSHA and
	// EXEC are listed with their whole time (theirs and their commands')
	// but left out of the total, so a script's share may pass 100 %.
	Time []CommandTime
}

// CommandTime is one command's share of the command time Redis measured.
type CommandTime struct {
	Name  string
	Calls float64 // per second
	Share float64 // of all commands' microseconds
	// Usec is the mean microseconds of one call.
	Usec float64
}

// Meter measures what a set of redis-servers do between StartMeter and
// Stop, from their INFO.
type Meter struct {
	addrs  []string
	before []nodeStat
	start  time.Time
}

// StartMeter reads every node's counters now.
func StartMeter(ctx context.Context, addrs []string) (*Meter, error) {
	before, err := readNodes(ctx, addrs)
	if err != nil {
		return nil, err
	}
	return &Meter{addrs: addrs, before: before, start: time.Now()}, nil
}

// Stop reads the counters again and returns the rates since the start.
func (m *Meter) Stop(ctx context.Context) (RedisLoad, error) {
	elapsed := time.Since(m.start).Seconds()
	after, err := readNodes(ctx, m.addrs)
	if err != nil {
		return RedisLoad{}, err
	}
	var out RedisLoad
	usec := map[string]int64{}
	calls := map[string]int64{}
	var total int64
	for i := range after {
		cpu := (after[i].cpu - m.before[i].cpu) / elapsed
		out.CPU += cpu
		out.Busiest = max(out.Busiest, cpu)
		out.Commands += float64(after[i].commands-m.before[i].commands) / elapsed
		for name, u := range after[i].cmdUsec {
			d := u - m.before[i].cmdUsec[name]
			usec[name] += d
			calls[name] += after[i].cmdCalls[name] - m.before[i].cmdCalls[name]
			if name != "evalsha" && name != "eval" && name != "exec" {
				total += d
			}
		}
	}
	for name, u := range usec {
		if u > 0 && total > 0 {
			ct := CommandTime{Name: name, Calls: float64(calls[name]) / elapsed, Share: float64(u) / float64(total)}
			if calls[name] > 0 {
				ct.Usec = float64(u) / float64(calls[name])
			}
			out.Time = append(out.Time, ct)
		}
	}
	sort.Slice(out.Time, func(i, j int) bool { return out.Time[i].Share > out.Time[j].Share })
	return out, nil
}

// Top describes the n commands that took the most time.
func (l RedisLoad) Top(n int) string {
	var parts []string
	for i, ct := range l.Time {
		if i == n {
			break
		}
		parts = append(parts, fmt.Sprintf("%s %.0f%% (%.0f/s, %.0f µs)", ct.Name, 100*ct.Share, ct.Calls, ct.Usec))
	}
	return strings.Join(parts, ", ")
}
