package inspect

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/protocol"
	"github.com/hemostat/hemostat/sdk"
)

// Container is what Redis holds about one container: its latest stats
// (hemostat:stats:<name>, present while the monitor sees it), its
// remediation record, its last remediation, and an escalation no action
// has followed.
type Container struct {
	Name  string           `json:"name"`
	Stats protocol.Stats   `json:"stats"`
	Count int              `json:"remediations"`
	Last  *sdk.Remediation `json:"last_remediation,omitempty"`
	// Escalation is set while the container waits for a person.
	Escalation *Escalated `json:"escalation,omitempty"`
}

// Containers reads every container with stats, sorted by name.
func Containers(ctx context.Context, c redis.UniversalClient) ([]Container, error) {
	keys, err := scan(ctx, c, protocol.StatsKey("*"))
	if err != nil {
		return nil, err
	}
	out := make([]Container, 0, len(keys))
	for _, k := range keys {
		name := strings.TrimPrefix(k, protocol.StatsKey(""))
		var (
			stats = c.Get(ctx, k)
			rec   = c.Get(ctx, protocol.RemediationKey(name))
			last  = c.LIndex(ctx, protocol.DecisionsKey(name), -1)
		)
		ct := Container{Name: name}
		raw, err := stats.Bytes()
		if err == redis.Nil {
			continue // expired meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("get %s: %w", k, err)
		}
		if json.Unmarshal(raw, &ct.Stats) != nil {
			continue
		}
		if raw, err := rec.Bytes(); err == nil {
			var r protocol.RemediationRecord
			if json.Unmarshal(raw, &r) == nil {
				ct.Count = r.Count
			}
		}
		if raw, err := last.Bytes(); err == nil {
			var r sdk.Remediation
			if json.Unmarshal(raw, &r) == nil {
				ct.Last = &r
			}
		}
		out = append(out, ct)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
