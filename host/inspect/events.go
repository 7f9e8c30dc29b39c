package inspect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/hemostat/hemostat/host/protocol"
)

// Filter selects events; empty fields select all.
type Filter struct {
	Type      string
	Container string
}

// Event is one envelope with the container it names.
type Event struct {
	protocol.Envelope
	Container string `json:"-"`
	// Raw is the envelope as published.
	Raw []byte `json:"-"`
}

// Match says whether f selects e.
func (f Filter) Match(e Event) bool {
	return (f.Type == "" || e.Type == f.Type) && (f.Container == "" || e.Container == f.Container)
}

// Types are the event types f selects.
func (f Filter) Types() ([]string, error) {
	if f.Type == "" {
		return protocol.LoggedTypes, nil
	}
	if !slices.Contains(protocol.LoggedTypes, f.Type) {
		return nil, fmt.Errorf("unknown event type %q; one of %s", f.Type, strings.Join(protocol.LoggedTypes, ", "))
	}
	return []string{f.Type}, nil
}

// ParseEvent reads one envelope as published; false when it is not one.
func ParseEvent(raw []byte) (Event, bool) {
	var e Event
	if json.Unmarshal(raw, &e.Envelope) != nil || e.Type == "" {
		return Event{}, false
	}
	var d struct {
		Container string `json:"container"`
	}
	_ = json.Unmarshal(e.Data, &d)
	e.Container = d.Container
	e.Raw = append([]byte(nil), raw...)
	return e, true
}

// Recent reads the event logs (hemostat:events:<type>) that f selects and
// returns the newest limit matching envelopes, oldest first; limit <= 0
// means all the logs hold (100 of each type).
func Recent(ctx context.Context, c redis.UniversalClient, f Filter, limit int) ([]Event, error) {
	types, err := f.Types()
	if err != nil {
		return nil, err
	}
	var out []Event
	for _, t := range types {
		raw, err := c.Get(ctx, protocol.EventLogKey(t)).Bytes()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("get %s: %w", protocol.EventLogKey(t), err)
		}
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) != nil {
			continue
		}
		for _, r := range list {
			if e, ok := ParseEvent(r); ok && f.Match(e) {
				out = append(out, e)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Timestamp < out[j].Timestamp })
	if limit > 0 && len(out) > limit {
		out = out[len(out)-limit:]
	}
	return out, nil
}

// Follow subscribes to the channels of the types f selects and hands each
// matching envelope to fn until ctx ends. ready, when set, is called once
// the subscription is in place.
func Follow(ctx context.Context, c redis.UniversalClient, f Filter, ready func(), fn func(Event)) error {
	types, err := f.Types()
	if err != nil {
		return err
	}
	chans := make([]string, len(types))
	for i, t := range types {
		chans[i] = protocol.Channel(t)
	}
	sub := c.Subscribe(ctx, chans...)
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	if ready != nil {
		ready()
	}
	ch := sub.Channel()
	for {
		select {
		case <-ctx.Done():
			return nil
		case m, ok := <-ch:
			if !ok {
				return nil
			}
			if e, ok := ParseEvent([]byte(m.Payload)); ok && f.Match(e) {
				fn(e)
			}
		}
	}
}

// Line is the event as `hemostatd events` prints it: time, type,
// container and summary, each escaped for the terminal (esc).
func (e Event) Line() string {
	return fmt.Sprintf("%s  %-20s  %-24s  %s", esc(e.Timestamp), esc(e.Type), esc(e.Container), esc(e.Summary()))
}

// Summary is a one-line account of an event's data, for people.
func (e Event) Summary() string {
	var d struct {
		Issues     []string `json:"issues"`
		Action     string   `json:"action"`
		Reason     string   `json:"reason"`
		Confidence float64  `json:"confidence"`
		Source     string   `json:"source"`
		Analyzer   string   `json:"analyzer"`
		Message    string   `json:"message"`
		Result     struct {
			Status string `json:"status"`
		} `json:"result"`
	}
	_ = json.Unmarshal(e.Data, &d)
	var parts []string
	add := func(s string) {
		if s != "" {
			parts = append(parts, s)
		}
	}
	switch e.Type {
	case protocol.TypeHealthAlert:
		add(strings.Join(d.Issues, "; "))
	case protocol.TypeRemediationNeeded:
		add(fmt.Sprintf("%s (confidence %.2f)", d.Action, d.Confidence))
		add(d.Analyzer)
		add(d.Reason)
	case protocol.TypeRemediationComplete:
		add(d.Action)
		add(d.Result.Status)
	case protocol.TypeFalseAlarm:
		add(d.Analyzer)
		add(d.Reason)
	case protocol.TypeEscalation:
		add(d.Source)
		add(d.Reason)
	case protocol.TypeForeignAction:
		add(d.Message)
	}
	return strings.Join(parts, " · ")
}
