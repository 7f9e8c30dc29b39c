package daemontest

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
)

// FaultRowPrefix starts each line of the fault table a fault test prints;
// scripts/faults.sh collects those lines from `go test -v` into the table.
const FaultRowPrefix = "FAULT-ROW "

// faultOut is where rows go: stdout, which `go test -v` passes through
// as is (t.Log would prefix the file and line).
var (
	faultMu  sync.Mutex
	faultOut io.Writer = os.Stdout
)

// FaultReport is one row of the fault table: a fault, what hemostatd did
// about it, and the figure that shows it.
type FaultReport struct {
	t       testing.TB
	fault   string
	mu      sync.Mutex
	outcome string
	figures []string
}

// Fault starts the row for fault; the row is printed when the test ends,
// with the outcome "FAILED: …" instead of the one set if the test failed,
// so that a broken guarantee shows in the table rather than vanishing
// from it.
func Fault(t testing.TB, fault string) *FaultReport {
	r := &FaultReport{t: t, fault: fault}
	t.Cleanup(r.print)
	return r
}

// Outcome sets what hemostatd did about the fault.
func (r *FaultReport) Outcome(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.outcome = fmt.Sprintf(format, args...)
}

// Figure adds a measured figure to the row, and logs it.
func (r *FaultReport) Figure(format string, args ...any) {
	r.t.Helper()
	f := fmt.Sprintf(format, args...)
	r.t.Log(f)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.figures = append(r.figures, f)
}

// Row is the table line without its prefix: "fault | outcome | figures".
func (r *FaultReport) Row() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	outcome := r.outcome
	if r.t.Failed() {
		outcome = strings.TrimSuffix("FAILED: the test failed; "+outcome, "; ")
	} else if outcome == "" {
		outcome = "(no outcome recorded)"
	}
	return cell(r.fault) + " | " + cell(outcome) + " | " + cell(strings.Join(r.figures, "; "))
}

func (r *FaultReport) print() {
	faultMu.Lock()
	defer faultMu.Unlock()
	fmt.Fprintln(faultOut, FaultRowPrefix+r.Row())
}

// cell keeps a table cell on one line and free of the column separator.
func cell(s string) string {
	return strings.NewReplacer("\n", " ", "|", "/").Replace(s)
}
