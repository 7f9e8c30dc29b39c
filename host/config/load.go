package config

import (
	"fmt"
	"os"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Load reads and parses the file at path. An empty path is Default. A file
// that does not exist is an error that wraps fs.ErrNotExist; problems in the
// file are Errors.
func Load(path string) (*Config, error) {
	if path == "" {
		return Default(), nil
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(src, path)
}

// Parse reads a configuration from src; filename names it in positions. Any
// problem is reported as Errors, all of them at once, in file order.
func Parse(src []byte, filename string) (*Config, error) {
	file, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		errs := fromDiagnostics(diags)
		errs.sort()
		return nil, errs
	}
	c := Default()
	c.File = filename
	d := newDecoder()
	d.root(file.Body, c)
	if len(d.errs) > 0 {
		d.errs.sort()
		return nil, d.errs
	}
	return c, nil
}
