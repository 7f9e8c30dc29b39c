package inspect

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/protocol"
)

// Status is what `hemostatd status` prints.
type Status struct {
	Target     Target
	Daemons    []Heartbeat
	Fleet      Fleet
	Containers []Container
}

// ReadStatus reads the heartbeats and the containers.
func ReadStatus(ctx context.Context, c redis.UniversalClient, t Target) (Status, error) {
	st := Status{Target: t}
	var err error
	if st.Daemons, err = Heartbeats(ctx, c); err != nil {
		return st, err
	}
	if st.Fleet, err = ReadFleet(ctx, c); err != nil {
		return st, err
	}
	st.Containers, err = Containers(ctx, c)
	return st, err
}

// Write prints st for people, times relative to now.
func (st Status) Write(w io.Writer, now time.Time) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "redis\t%s reachable (from %s)\n", strings.Join(st.Target.Addresses, ", "), st.Target.Source)
	if len(st.Daemons) == 0 {
		fmt.Fprintf(tw, "daemons\tnone: no hemostatd has written a heartbeat in the last %s\n", HeartbeatTTL)
	}
	for _, d := range st.Daemons {
		line := fmt.Sprintf("daemon\t%s  version %s  up %s  last beat %s ago", d.ID, d.Version, ago(now, d.Started), ago(now, d.Updated))
		if d.HTTP != "" {
			line += "  http " + d.HTTP
		}
		if d.EmbeddedRedis != "" {
			line += "  embedded redis " + d.EmbeddedRedis
		}
		if d.DryRun {
			line += "  DRY RUN"
		}
		fmt.Fprintln(tw, line)
		for _, p := range d.Plugins {
			fmt.Fprintf(tw, "  plugin\t%s/%s  %s  restarts %d\n", p.Role, p.Name, p.State, p.Restarts)
		}
	}
	tw.Flush()
	st.writeHosts(w)
	fmt.Fprintf(w, "\n%d container(s) seen in the last 5 minutes\n", len(st.Containers))
	if len(st.Containers) == 0 {
		return nil
	}
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CONTAINER\tSTATUS\tHEALTH\tCPU %\tMEM %\tSEEN\tREMEDIATIONS\tLAST")
	for _, c := range st.Containers {
		last := "-"
		if c.Last != nil {
			last = fmt.Sprintf("%s %s %s ago", c.Last.Action, c.Last.Status, ago(now, c.Last.Time))
		}
		health := c.Stats.Health
		if health == "" {
			health = "-"
		}
		seen := "-"
		if t, err := protocol.ParseTimestamp(c.Stats.Timestamp); err == nil {
			seen = ago(now, t) + " ago"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f\t%.1f\t%s\t%d\t%s\n", c.Name, c.Stats.Status, health, c.Stats.CPUPct, c.Stats.MemoryPct, seen, c.Count, last)
	}
	return tw.Flush()
}

// writeHosts prints the fleet, one line per Docker host: whether it is up
// and why not, its active daemon and lease generation, its containers and
// daemons.
func (st Status) writeHosts(w io.Writer) {
	if len(st.Fleet.Hosts) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%d host(s)\n", len(st.Fleet.Hosts))
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tSTATE\tACTIVE DAEMON\tLEASE GEN\tCONTAINERS\tDAEMONS")
	for _, h := range st.Fleet.Hosts {
		state := "up"
		if !h.Up {
			state = "DOWN: " + h.Reason
		}
		active, gen := "-", "-"
		if h.Active != "" {
			active = h.Active
		}
		if h.LeaseGen > 0 {
			gen = fmt.Sprint(h.LeaseGen)
		}
		standby := 0
		for _, d := range h.Daemons {
			if d.Role == "standby" {
				standby++
			}
		}
		daemons := fmt.Sprint(len(h.Daemons))
		if standby > 0 {
			daemons += fmt.Sprintf(" (%d standby)", standby)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", h.Name, state, active, gen, h.Containers, daemons)
	}
	tw.Flush()
	if st.Fleet.Unattributed > 0 {
		fmt.Fprintf(w, "%d container(s) name no host (single-host monitors sharing this Redis)\n", st.Fleet.Unattributed)
	}
}

// ago is d rounded for reading.
func ago(now, t time.Time) string {
	d := now.Sub(t)
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		return d.Round(time.Minute).String()
	}
	return d.Round(time.Hour).String()
}
