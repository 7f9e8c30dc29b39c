package config

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/errors")

// TestParseErrors parses every broken file in testdata/errors and compares
// the printed errors with the file's .golden twin.
func TestParseErrors(t *testing.T) {
	unsetEnv(t, "HEMOSTAT_CONFIG_TEST_UNSET")

	files, err := filepath.Glob(filepath.Join("testdata", "errors", "*.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no test files in testdata/errors")
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(strings.TrimSuffix(name, ".hcl"), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			c, err := Parse(src, name)
			if err == nil {
				t.Fatalf("Parse succeeded, want errors; got %+v", c)
			}
			if c != nil {
				t.Errorf("Parse returned a config along with errors")
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error is %T, want Errors", err)
			}
			for _, e := range errs {
				if e.Pos.File != name || e.Pos.Line == 0 || e.Pos.Column == 0 {
					t.Errorf("error without a full position: %q", e.Error())
				}
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(file, ".hcl") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("errors differ from %s\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

func TestErrorsText(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"positioned", Error{Pos: Pos{File: "a.hcl", Line: 3, Column: 7}, Msg: "bad"}, "a.hcl:3:7: bad"},
		{"file only", Error{Pos: Pos{File: "a.hcl"}, Msg: "bad"}, "a.hcl: bad"},
		{"no position", Error{Msg: "bad"}, "bad"},
		{"no file", Error{Pos: Pos{Line: 2, Column: 1}, Msg: "bad"}, "2:1: bad"},
		{"one per line", Errors{
			{Pos: Pos{File: "a.hcl", Line: 1, Column: 1}, Msg: "first"},
			{Pos: Pos{File: "a.hcl", Line: 2, Column: 5}, Msg: "second"},
		}, "a.hcl:1:1: first\na.hcl:2:5: second"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}
