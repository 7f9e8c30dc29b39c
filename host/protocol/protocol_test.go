package protocol

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hemostat/hemostat/sdk"
)

func TestNewEnvelopeMatchesTheSpec(t *testing.T) {
	at := time.Date(2025, 11, 3, 10, 30, 45, 123456789, time.FixedZone("CET", 3600))
	env, err := NewEnvelope(AgentMonitor, TypeHealthAlert, HealthAlert{Container: "api", Issues: []string{IssueHighCPU(92.46)}}, at)
	if err != nil {
		t.Fatal(err)
	}
	if env.Timestamp != "2025-11-03T09:30:45.123456" {
		t.Errorf("timestamp %q, want UTC with microseconds and no zone", env.Timestamp)
	}
	if got := string(env.Data); !strings.Contains(got, `"issues":["High CPU: 92.5%"]`) {
		t.Errorf("data %s", got)
	}
	if _, err := NewEnvelope(AgentMonitor, TypeHealthAlert, []string{"not an object"}, at); err == nil {
		t.Error("data that is not an object was accepted")
	}
}

func TestDecodeEnvelope(t *testing.T) {
	const ok = `{"timestamp":"2025-11-03T10:30:45.123456","agent":"x","type":"health_alert","data":{}}`
	for _, tc := range []struct {
		name string
		msg  string
		want error
	}{
		{"valid", ok, nil},
		{"RFC 3339 timestamp from a foreign publisher", `{"timestamp":"2025-11-03T10:30:45Z","agent":"x","type":"health_alert","data":{}}`, nil},
		{"not JSON", `{nope`, ErrMalformed},
		{"type of the wrong kind", `{"timestamp":"2025-11-03T10:30:45.1","agent":"x","type":5,"data":{}}`, ErrInvalidData},
		{"type of another channel", strings.Replace(ok, "health_alert", "false_alarm", 1), ErrWrongType},
		{"no type", `{"timestamp":"2025-11-03T10:30:45.1","agent":"x","data":{}}`, ErrMissing},
		{"no agent", `{"timestamp":"2025-11-03T10:30:45.1","type":"health_alert","data":{}}`, ErrMissing},
		{"bad timestamp", strings.Replace(ok, "2025-11-03T10:30:45.123456", "yesterday", 1), ErrInvalidData},
		{"data not an object", strings.Replace(ok, `"data":{}`, `"data":"x"`, 1), ErrInvalidData},
		{"too large", `{"x":"` + strings.Repeat("a", MaxMessageBytes) + `"}`, ErrTooLarge},
	} {
		_, err := DecodeEnvelope([]byte(tc.msg), TypeHealthAlert)
		if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestDecodeData(t *testing.T) {
	env := func(data string) Envelope { return Envelope{Type: TypeHealthAlert, Data: []byte(data)} }
	for _, tc := range []struct {
		data string
		want error
	}{
		{`{"container":"api","issues":["x"]}`, nil},
		{`{"container":7,"issues":["x"]}`, ErrInvalidData},
		{`{"container":"api"}`, ErrMissing},
		{`{"issues":["x"]}`, ErrMissing},
	} {
		var alert HealthAlert
		err := DecodeData(env(tc.data), &alert)
		if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("DecodeData(%s) = %v, want %v", tc.data, err, tc.want)
		}
	}
	var need RemediationNeeded
	if err := DecodeData(Envelope{Data: []byte(`{"container":"a","action":"restart","confidence":1.5}`)}, &need); !errors.Is(err, ErrInvalidData) {
		t.Errorf("confidence 1.5 accepted: %v", err)
	}
}

func TestMetricsFromSample(t *testing.T) {
	s := sdk.Sample{Container: "api", Status: "running", CPUPct: 92.46, MemoryPct: 45.25, Time: time.Date(2025, 11, 3, 10, 30, 45, 999e6, time.UTC)}
	m := MetricsFromSample(s)
	want := Metrics{Name: "api", Status: "running", CPUPct: 92.5, MemoryPct: 45.3, Timestamp: "2025-11-03T10:30:45"}
	if m != want {
		t.Errorf("MetricsFromSample = %+v, want %+v", m, want)
	}
}

// TestDecodeDataShared: the handlers of one received envelope share its
// decoded data — the second decode of the same type copies the first and
// allocates nothing — while another type, or a copy given other data,
// is decoded afresh.
func TestDecodeDataShared(t *testing.T) {
	raw := []byte(`{"timestamp":"2025-11-03T10:30:45.123456","agent":"HemoStat-Monitor","type":"health_alert",` +
		`"data":{"container":"web-1","issues":["exited (code 1)"],"metrics":{"cpu_pct":1.5}}}`)
	env, err := DecodeEnvelope(raw, TypeHealthAlert)
	if err != nil {
		t.Fatal(err)
	}
	var first HealthAlert
	if err := DecodeData(env, &first); err != nil {
		t.Fatal(err)
	}
	first.Container = "changed by its reader"
	copyOf := env
	var second HealthAlert
	if allocs := testing.AllocsPerRun(10, func() {
		second = HealthAlert{}
		if err := DecodeData(copyOf, &second); err != nil {
			t.Fatal(err)
		}
	}); allocs != 0 {
		t.Errorf("the second decode allocated %v times; want the first's value shared", allocs)
	}
	if second.Container != "web-1" || len(second.Issues) != 1 || second.Metrics["cpu_pct"] != 1.5 {
		t.Errorf("second decode = %+v", second)
	}

	var other RemediationNeeded
	if err := DecodeData(env, &other); err == nil || other.Container != "web-1" {
		t.Errorf("decoding as another type = %+v, %v; want it decoded afresh (and invalid: no action)", other, err)
	}

	changed := env
	changed.Data = []byte(`{"container":"db-1","issues":["x"]}`)
	var third HealthAlert
	if err := DecodeData(changed, &third); err != nil || third.Container != "db-1" {
		t.Errorf("a copy with other data decoded to %+v, %v", third, err)
	}

	bad, err := DecodeEnvelope([]byte(`{"timestamp":"2025-11-03T10:30:45","agent":"a","type":"health_alert","data":{"container":"c"}}`), TypeHealthAlert)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		var a HealthAlert
		if err := DecodeData(bad, &a); !errors.Is(err, ErrMissing) {
			t.Errorf("decode %d of invalid data: %v; want ErrMissing every time", i+1, err)
		}
	}
}
