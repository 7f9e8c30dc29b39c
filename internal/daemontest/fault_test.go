package daemontest

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// fakeTB is a test whose failure the reporter's own test decides.
type fakeTB struct {
	testing.TB
	failed   bool
	cleanups []func()
}

func (f *fakeTB) Helper()           {}
func (f *fakeTB) Log(...any)        {}
func (f *fakeTB) Failed() bool      { return f.failed }
func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) end() {
	for _, fn := range f.cleanups {
		fn()
	}
}

func TestFaultRow(t *testing.T) {
	var out bytes.Buffer
	faultOut = &out
	defer func() { faultOut = os.Stdout }()

	ok := &fakeTB{TB: t}
	r := Fault(ok, "redis-server SIGKILLed")
	r.Outcome("reconnected | resubscribed")
	r.Figure("sent %d", 10)
	r.Figure("lost %d\nof them", 2)
	ok.end()

	bad := &fakeTB{TB: t, failed: true}
	r = Fault(bad, "plugin SIGSTOPped")
	r.Outcome("restarted")
	bad.end()

	want := "FAULT-ROW redis-server SIGKILLed | reconnected / resubscribed | sent 10; lost 2 of them\n" +
		"FAULT-ROW plugin SIGSTOPped | FAILED: the test failed; restarted | \n"
	if got := out.String(); got != want {
		t.Errorf("rows:\n%s\nwant:\n%s", got, want)
	}
	if !strings.HasPrefix(out.String(), FaultRowPrefix) {
		t.Errorf("rows do not start with %q", FaultRowPrefix)
	}
}
