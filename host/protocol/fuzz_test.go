package protocol

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// dataFor returns a fresh value of the data type of eventType.
func dataFor(eventType string) validator {
	switch eventType {
	case TypeHealthAlert:
		return &HealthAlert{}
	case TypeRemediationNeeded:
		return &RemediationNeeded{}
	case TypeRemediationComplete:
		return &RemediationComplete{}
	case TypeFalseAlarm:
		return &FalseAlarm{}
	case TypeEscalation:
		return &Escalation{}
	}
	return nil
}

// FuzzDecode feeds one message to the decoder of every channel, as a hostile
// publisher on the bus could. Whatever the bytes: no panic; every rejection
// is an *InvalidError (so the bus counts and logs it as invalid); and what
// is accepted can be published again — re-encoded by NewEnvelope and decoded
// to the same data — because hemostatd republishes what it received (the
// event log, the analyzer's metrics, the responder's issues).
//
// The seed corpus is in testdata/fuzz/FuzzDecode: the protocol's examples,
// HemoStat's extensions and the bad envelopes the tests know. Run longer by
// hand with: go test -run XXX -fuzz FuzzDecode -fuzztime 5m ./host/protocol
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"timestamp":"2025-11-03T10:30:45.123456","agent":"x","type":"health_alert","data":{"container":"a","issues":["High CPU: 92.5%"]}}`))
	f.Fuzz(func(t *testing.T, msg []byte) {
		for _, eventType := range Types {
			env, err := DecodeEnvelope(msg, eventType)
			if err != nil {
				requireInvalid(t, "DecodeEnvelope", err)
				continue
			}
			data := dataFor(eventType)
			if err := DecodeData(env, data); err != nil {
				requireInvalid(t, "DecodeData", err)
				continue
			}
			at, err := env.Time()
			if err != nil {
				t.Fatalf("accepted envelope has an unreadable timestamp %q: %v", env.Timestamp, err)
			}
			again, err := NewEnvelope(env.Agent, env.Type, data, at)
			if err != nil {
				t.Fatalf("accepted %s data cannot be published again: %v\n%s", eventType, err, msg)
			}
			raw, err := json.Marshal(again)
			if err != nil {
				t.Fatalf("re-encoded envelope does not marshal: %v", err)
			}
			env2, err := DecodeEnvelope(raw, eventType)
			if err != nil {
				t.Fatalf("re-published %s is refused: %v\n%s", eventType, err, raw)
			}
			data2 := dataFor(eventType)
			if err := DecodeData(env2, data2); err != nil {
				t.Fatalf("re-published %s data is refused: %v\n%s", eventType, err, raw)
			}
			first, _ := json.Marshal(data)
			second, _ := json.Marshal(data2)
			if string(first) != string(second) {
				t.Fatalf("%s data changed on the way round:\n%s\n%s", eventType, first, second)
			}
		}
	})
}

// FuzzParseTimestamp: the timestamp parser never panics, and what it
// accepts is formatted back in the protocol's format and read again to
// the same microsecond.
func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{"2025-11-03T10:30:45.123456", "2025-11-03T10:30:45Z", "2025-11-03T10:30:45+05:30", "2025-11-03T10:30:45", "yesterday", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		at, err := ParseTimestamp(s)
		if err != nil {
			return
		}
		back, err := ParseTimestamp(FormatTimestamp(at))
		if err != nil {
			t.Fatalf("%q parsed to %v, whose protocol form %q is refused: %v", s, at, FormatTimestamp(at), err)
		}
		if !back.Equal(at.Truncate(time.Microsecond)) {
			t.Fatalf("%q: %v became %v", s, at, back)
		}
	})
}

func requireInvalid(t *testing.T, what string, err error) {
	t.Helper()
	var inv *InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("%s rejected with %T %v, want *InvalidError", what, err, err)
	}
}
