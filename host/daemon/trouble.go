package daemon

import (
	"context"
	"os"
	"sync/atomic"

	"github.com/hemostat/hemostat/host/config"
	"github.com/hemostat/hemostat/host/role"
	"github.com/hemostat/hemostat/host/supervisor"
	"github.com/hemostat/hemostat/sdk"
)

// ownTrouble tells the alert role of hemostatd's own trouble. The bus and
// the supervisor report to it from the start, before the alert role
// exists; until then the log alone tells.
type ownTrouble struct {
	*role.Trouble
	ctx   context.Context
	alert atomic.Pointer[role.Alert]
}

func newOwnTrouble(c config.Trouble) *ownTrouble {
	host, _ := os.Hostname()
	t := &ownTrouble{Trouble: &role.Trouble{
		Settings: role.TroubleSettings{RedisGrace: c.RedisGrace, PluginStable: c.PluginStable, Repeat: c.Repeat},
		Host:     host,
	}}
	t.Notify = func(n sdk.Notification) {
		if a := t.alert.Load(); a != nil {
			a.Notify(t.ctx, n)
		}
	}
	return t
}

// start hands the trouble to al from now on; ctx bounds its deliveries.
func (t *ownTrouble) start(ctx context.Context, al *role.Alert) {
	t.ctx = ctx
	t.alert.Store(al)
}

// connection is the bus's OnConnection.
func (t *ownTrouble) connection(up bool, err error) {
	if up {
		t.RedisUp()
	} else {
		t.RedisDown(err)
	}
}

// pluginEvent is the supervisor's OnEvent.
func (t *ownTrouble) pluginEvent(ev supervisor.Event) {
	switch ev.Kind {
	case supervisor.EventFailed:
		t.PluginFailed(ev.Role, ev.Name, ev.Err, ev.Restarts)
	case supervisor.EventRestarted:
		t.PluginRestarted(ev.Role, ev.Name, ev.Restarts)
	case supervisor.EventGaveUp:
		t.PluginGaveUp(ev.Role, ev.Name, ev.Err, ev.Restarts)
	}
}
