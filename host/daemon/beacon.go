package daemon

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/inspect"
)

// writeAddrFile writes the embedded Redis's address to cfg's address file
// so that `hemostatd status` and `events` find it; the returned func
// removes the file again if it still holds this address. A failure is
// only a warning: the daemon works without it.
func (d *Daemon) writeAddrFile(addr string) (remove func()) {
	file := d.cfg.RedisAddrFile()
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		d.log.Warn("cannot write the embedded Redis's address for hemostatd status", "file", file, "error", err)
		return func() {}
	}
	// Written aside and renamed, so that a reader never sees half of it.
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, []byte(addr+"\n"), 0o600); err != nil {
		d.log.Warn("cannot write the embedded Redis's address for hemostatd status", "file", file, "error", err)
		return func() {}
	}
	if err := os.Rename(tmp, file); err != nil {
		d.log.Warn("cannot write the embedded Redis's address for hemostatd status", "file", file, "error", err)
		return func() {}
	}
	d.log.Info("embedded redis address written", "file", file)
	return func() {
		// Another hemostatd with the same data_dir may have replaced it.
		if raw, err := os.ReadFile(file); err == nil && string(raw) == addr+"\n" {
			if err := os.Remove(file); err != nil && !errors.Is(err, fs.ErrNotExist) {
				d.log.Warn("remove the embedded Redis's address file", "file", file, "error", err)
			}
		}
	}
}

// heartbeat writes this daemon's heartbeat every inspect.HeartbeatInterval
// until ctx ends, then deletes it: `hemostatd status` lists the daemons
// alive on a Redis from these keys.
func (d *Daemon) heartbeat(client redis.UniversalClient, embedded, version string) func(context.Context) error {
	hb := inspect.Heartbeat{ID: inspect.DaemonID(), PID: os.Getpid(), Version: version, Started: time.Now().UTC(), EmbeddedRedis: embedded}
	hb.Host = d.fleet.Host
	return func(ctx context.Context) error {
		t := time.NewTicker(inspect.HeartbeatInterval)
		defer t.Stop()
		for {
			d.beat(ctx, client, hb)
			select {
			case <-ctx.Done():
				stop, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
				defer cancel()
				if err := inspect.RemoveHeartbeat(stop, client, hb.ID); err != nil {
					d.log.Debug("remove heartbeat", "error", err)
				}
				return nil
			case <-t.C:
			case <-d.standby.wait():
				// Taken or lost: `hemostatd status` shows the active
				// daemon at once.
			}
		}
	}
}

func (d *Daemon) beat(ctx context.Context, client redis.UniversalClient, hb inspect.Heartbeat) {
	hb.Updated = time.Now().UTC()
	hb.HTTP = d.HTTPAddr()
	// A reload holds the lock while plugins restart: the beat keeps the
	// last known setting rather than wait.
	if d.reloadMu.TryLock() {
		d.dryRun = d.cfg.Responder.DryRun
		d.reloadMu.Unlock()
	}
	hb.DryRun = d.dryRun
	hb.Active, hb.LeaseGen = d.standby.active(), d.standby.generation()
	for _, p := range d.supervisor.Status() {
		hb.Plugins = append(hb.Plugins, inspect.PluginBeat{Role: p.Role, Name: p.Name, State: p.State, Restarts: p.Restarts})
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := inspect.WriteHeartbeat(ctx, client, hb); err != nil {
		d.log.Debug("write heartbeat", "error", err)
	}
}
