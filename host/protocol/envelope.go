package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"
)

// TimestampFormat is the envelope's timestamp: UTC with microseconds and no
// zone suffix, as in the protocol's examples.
const TimestampFormat = "2006-01-02T15:04:05.000000"

// StatsTimestampFormat is the stats object's timestamp: UTC to the second.
const StatsTimestampFormat = "2006-01-02T15:04:05"

// FormatTimestamp renders t for an envelope.
func FormatTimestamp(t time.Time) string { return t.UTC().Format(TimestampFormat) }

// ParseTimestamp reads an envelope or stats timestamp. It accepts the
// protocol's forms with or without fractional seconds and, from foreign
// publishers, RFC 3339.
func ParseTimestamp(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("timestamp %q is not of the form %s", s, TimestampFormat)
}

// Envelope wraps every published event.
type Envelope struct {
	Timestamp string          `json:"timestamp"`
	Agent     string          `json:"agent"`
	Type      string          `json:"type"`
	Data      json.RawMessage `json:"data"`

	// decoded is shared by every copy of an envelope DecodeEnvelope made:
	// the bus hands one received envelope to several handlers (the
	// overview, then a role), and each decoding the data again was a
	// large part of a burst's cost.
	decoded *sharedData
}

// sharedData holds the first successful DecodeData of an envelope.
type sharedData struct {
	mu   sync.Mutex
	of   *byte     // the first byte of the Data it was decoded from
	v    validator // a pointer to a copy of the decoded value
	vTyp reflect.Type
}

// NewEnvelope stamps data for publishing now.
func NewEnvelope(agent, eventType string, data any, now time.Time) (Envelope, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return Envelope{}, fmt.Errorf("encode %s data: %w", eventType, err)
	}
	if len(raw) == 0 || raw[0] != '{' {
		return Envelope{}, fmt.Errorf("%s data must be a JSON object", eventType)
	}
	return Envelope{Timestamp: FormatTimestamp(now), Agent: agent, Type: eventType, Data: raw}, nil
}

// Time parses the envelope's timestamp.
func (e Envelope) Time() (time.Time, error) { return ParseTimestamp(e.Timestamp) }

// MaxMessageBytes bounds a message hemostatd will decode. Real envelopes
// are well under a few KB; a log tail keeps them under 64 KB.
const MaxMessageBytes = 1 << 20

// Reasons a message is rejected; they label the invalid-message counter.
var (
	ErrTooLarge    = errors.New("message too large")
	ErrMalformed   = errors.New("malformed JSON")
	ErrWrongType   = errors.New("type does not match channel")
	ErrMissing     = errors.New("required field missing")
	ErrInvalidData = errors.New("invalid data")
)

// InvalidError says why a message was rejected; Reason is one of the Err*
// values above, for counting.
type InvalidError struct {
	Reason error
	Detail string
}

func (e *InvalidError) Error() string {
	if e.Detail == "" {
		return e.Reason.Error()
	}
	return e.Reason.Error() + ": " + e.Detail
}

func (e *InvalidError) Unwrap() error { return e.Reason }

func invalid(reason error, format string, args ...any) error {
	return &InvalidError{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// DecodeEnvelope reads a message received on the channel of wantType. It
// rejects oversized messages, malformed JSON, wrong field types, a type
// that is not the channel's, and data that is not an object.
func DecodeEnvelope(msg []byte, wantType string) (Envelope, error) {
	if len(msg) > MaxMessageBytes {
		return Envelope{}, invalid(ErrTooLarge, "%d bytes, limit %d", len(msg), MaxMessageBytes)
	}
	var env Envelope
	if err := json.Unmarshal(msg, &env); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return Envelope{}, invalid(ErrInvalidData, "field %q must be %s, not %s", typeErr.Field, typeErr.Type, typeErr.Value)
		}
		return Envelope{}, invalid(ErrMalformed, "%v", err)
	}
	switch {
	case env.Type == "":
		return Envelope{}, invalid(ErrMissing, "type")
	case env.Type != wantType:
		return Envelope{}, invalid(ErrWrongType, "got %q on the %s channel", env.Type, wantType)
	case env.Timestamp == "":
		return Envelope{}, invalid(ErrMissing, "timestamp")
	case env.Agent == "":
		return Envelope{}, invalid(ErrMissing, "agent")
	}
	if _, err := ParseTimestamp(env.Timestamp); err != nil {
		return Envelope{}, invalid(ErrInvalidData, "%v", err)
	}
	data := bytes.TrimSpace(env.Data)
	if len(data) == 0 || data[0] != '{' {
		return Envelope{}, invalid(ErrInvalidData, "data must be a JSON object")
	}
	env.decoded = &sharedData{}
	return env, nil
}

// DecodeData strictly decodes an envelope's data into v (one of the data
// types of this package) and validates it.
//
// The data of an envelope from DecodeEnvelope is decoded once: a later
// call for the same type, on any copy of the envelope, gets a copy of
// that first value. The copy is shallow, so its slices and maps (Issues,
// Metrics) are shared by every reader of the envelope: read them, never
// change them in place.
func DecodeData(env Envelope, v validator) error {
	s := env.decoded
	if s != nil && len(env.Data) > 0 && s.load(&env.Data[0], v) {
		return nil
	}
	if err := json.Unmarshal(env.Data, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return invalid(ErrInvalidData, "data field %q must be %s, not %s", typeErr.Field, typeErr.Type, typeErr.Value)
		}
		return invalid(ErrMalformed, "%v", err)
	}
	if err := v.validate(); err != nil {
		return err
	}
	if s != nil && len(env.Data) > 0 {
		s.store(&env.Data[0], v)
	}
	return nil
}

// load copies the shared value into v when it was decoded from the data
// starting at of into v's type.
func (s *sharedData) load(of *byte, v validator) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.v == nil || s.of != of {
		return false
	}
	dst := reflect.ValueOf(v)
	if dst.Type() != s.vTyp {
		return false
	}
	dst.Elem().Set(reflect.ValueOf(s.v).Elem())
	return true
}

// store keeps a copy of v, the data starting at of decoded, unless a value
// is kept already.
func (s *sharedData) store(of *byte, v validator) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.v != nil {
		return
	}
	src := reflect.ValueOf(v)
	c := reflect.New(src.Type().Elem())
	c.Elem().Set(src.Elem())
	s.of, s.v, s.vTyp = of, c.Interface().(validator), src.Type()
}

type validator interface{ validate() error }
