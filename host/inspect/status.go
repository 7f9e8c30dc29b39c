package inspect

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/logline"
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
	if st.Containers, err = Containers(ctx, c); err != nil {
		return st, err
	}
	return st, markEscalated(ctx, c, st.Containers, time.Now())
}

// Write prints st for people, times relative to now.
func (st Status) Write(w io.Writer, now time.Time) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "redis\t%s reachable (from %s)\n", strings.Join(st.Target.Addresses, ", "), st.Target.Source)
	if len(st.Daemons) == 0 {
		fmt.Fprintf(tw, "daemons\tnone: no hemostatd has written a heartbeat in the last %s\n", HeartbeatTTL)
	}
	for _, d := range st.Daemons {
		line := fmt.Sprintf("daemon\t%s  version %s  up %s  last beat %s ago", esc(d.ID), esc(d.Version), ago(now, d.Started), ago(now, d.Updated))
		if d.HTTP != "" {
			line += "  http " + esc(d.HTTP)
		}
		if d.EmbeddedRedis != "" {
			line += "  embedded redis " + esc(d.EmbeddedRedis)
		}
		if d.DryRun {
			line += "  DRY RUN"
		}
		fmt.Fprintln(tw, line)
		for _, p := range d.Plugins {
			fmt.Fprintf(tw, "  plugin\t%s/%s  %s  restarts %d\n", esc(p.Role), esc(p.Name), esc(p.State), p.Restarts)
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
			last = fmt.Sprintf("%s %s %s ago", esc(c.Last.Action), esc(c.Last.Status), ago(now, c.Last.Time))
		}
		if c.Escalation != nil {
			last = "ESCALATED " + ago(now, c.Escalation.At) + " ago"
		}
		health := esc(c.Stats.Health)
		if health == "" {
			health = "-"
		}
		seen := "-"
		if t, err := protocol.ParseTimestamp(c.Stats.Timestamp); err == nil {
			seen = ago(now, t) + " ago"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f\t%.1f\t%s\t%d\t%s\n", esc(c.Name), esc(c.Stats.Status), health, c.Stats.CPUPct, c.Stats.MemoryPct, seen, c.Count, last)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return st.writeEscalated(w, now)
}

// writeEscalated lists the containers that wait for a person, with why,
// as the dashboard pins them.
func (st Status) writeEscalated(w io.Writer, now time.Time) error {
	var waiting []Container
	for _, c := range st.Containers {
		if c.Escalation != nil {
			waiting = append(waiting, c)
		}
	}
	if len(waiting) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\n%d container(s) need a person: escalated, and not acted on again by hemostatd until it is healthy\n", len(waiting))
	for _, c := range waiting {
		e := c.Escalation
		if _, err := fmt.Fprintf(w, "  %s  by %s %s ago: %s\n", esc(c.Name), esc(e.Source), ago(now, e.At), esc(e.Reason)); err != nil {
			return err
		}
	}
	return nil
}

// esc escapes a field read from Redis for the terminal: anyone who can
// write there must not break the table's lines or send escape sequences.
func esc(s string) string { return logline.Escape(s) }

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
			state = "DOWN: " + esc(h.Reason)
		}
		active, gen := "-", "-"
		if h.Active != "" {
			active = esc(h.Active)
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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", esc(h.Name), state, active, gen, h.Containers, daemons)
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
