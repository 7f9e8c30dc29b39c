package sdk

import "time"

// EventForeignAction is the event a responder publishes through
// Host.PublishEvent when another client of the engine (docker-autoheal, a
// second hemostatd with its own Redis, a script) restarted, stopped or
// killed a container around the responder's own action on it. Two healers
// on one engine double-restart every container; hemostatd counts these
// events in hemostat_foreign_actions_total.
const EventForeignAction = "foreign_action"

// ForeignAction is the data of an EventForeignAction.
type ForeignAction struct {
	Container string `json:"container"`
	// ContainerID is the container's short ID.
	ContainerID string `json:"container_id,omitempty"`
	// Action is what the other client did: restart, stop or kill.
	Action string `json:"action"`
	// Count is how many such operations of other clients fell in the
	// window, at least 1.
	Count int `json:"count"`
	// Ours is the responder's own action it was near.
	Ours string `json:"ours"`
	// OffsetSeconds is when the other client acted relative to ours:
	// negative before our engine call began, 0 during it, positive after
	// it returned.
	OffsetSeconds float64 `json:"offset_seconds"`
	// At is the engine's time of the other client's operation.
	At time.Time `json:"at"`
	// Message is the warning as logged, naming what happened and what to
	// do about it.
	Message string `json:"message"`
}
