package silence

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// TestWriteTable: active and expired silences in one table, and one
// planted in Redis by someone else whose fields try to forge a row and
// send the terminal escape sequences — printed escaped on its own line.
func TestWriteTable(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	list := []Silence{
		{ID: "a1", Container: "batch-*", Ends: now.Add(time.Hour), Comment: "nightly jobs", CreatedBy: "config", Silenced: 3},
		{ID: "b2", Container: "web", Event: "false_alarm", Ends: now.Add(-time.Minute), CreatedBy: "cli"},
		{ID: "c3\x1b[2J", Container: "db\nFORGED  *  2027-01-01T00:00:00Z  active", Ends: now.Add(time.Hour),
			CreatedBy: "api\x07", Comment: "tab\there\x1b]0;owned\x07"},
	}
	var out bytes.Buffer
	if err := WriteTable(&out, list, now); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "table.golden")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("table:\n%s\nwant (%s):\n%s", out.Bytes(), golden, want)
	}
	if n := bytes.Count(out.Bytes(), []byte("\n")); n != 4 {
		t.Errorf("%d lines, want a header and 3 rows", n)
	}
	if bytes.ContainsAny(out.Bytes(), "\x1b\x07") {
		t.Error("the table sends control characters to the terminal")
	}
}
