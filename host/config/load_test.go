package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// samplePath is the commented sample configuration at the repository root.
var samplePath = filepath.Join("..", "..", "hemostat.hcl")

// TestSample: the sample parses, and since it shows every default it means
// exactly what no file means; only the plugins' own settings and positions,
// which Default cannot know, differ.
func TestSample(t *testing.T) {
	unsetEnv(t, "REDIS_PASSWORD")
	unsetEnv(t, "HEMOSTAT_TOKEN")
	c, err := Load(samplePath)
	if err != nil {
		t.Fatalf("the sample does not parse:\n%v", err)
	}
	if c.File != samplePath {
		t.Errorf("File = %q, want %q", c.File, samplePath)
	}
	if got := string(c.Monitor.Plugins[0].Config); got != `{"interval":"5s"}` {
		t.Errorf("monitor docker config = %s", got)
	}
	if got := string(c.Analyzer.Plugins[0].Config); got != `{"cpu_pct":85}` {
		t.Errorf("analyzer threshold config = %s", got)
	}
	want := Default()
	want.File = c.File
	for _, ps := range [][]Plugin{c.Monitor.Plugins, c.Analyzer.Plugins, c.Responder.Plugins, c.Alert.Plugins} {
		for i := range ps {
			if ps[i].Pos.Line == 0 {
				t.Errorf("plugin %q has no position", ps[i].Name)
			}
			ps[i].Pos, ps[i].Ranges, ps[i].Config = Pos{}, nil, []byte("{}")
		}
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("the sample differs from Default:\n got %+v\nwant %+v", c, want)
	}
}

func TestLoad(t *testing.T) {
	t.Run("no path is Default", func(t *testing.T) {
		c, err := Load("")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(c, Default()) {
			t.Errorf("Load(\"\") = %+v, want Default", c)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		_, err := Load(filepath.Join(t.TempDir(), "absent.hcl"))
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("error %v does not wrap fs.ErrNotExist", err)
		}
	})
	t.Run("file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "hemostat.hcl")
		if err := os.WriteFile(path, []byte("log_level = \"warn\"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if c.File != path || c.LogLevel != "warn" {
			t.Errorf("File, LogLevel = %q, %q", c.File, c.LogLevel)
		}
	})
	t.Run("errors name the file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "bad.hcl")
		if err := os.WriteFile(path, []byte("\n\nlog_level = 1\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path)
		var errs Errors
		if !errors.As(err, &errs) || len(errs) != 1 {
			t.Fatalf("error = %v, want one Error", err)
		}
		if want := (Pos{File: path, Line: 3, Column: 13}); errs[0].Pos != want {
			t.Errorf("Pos = %v, want %v", errs[0].Pos, want)
		}
	})
}
