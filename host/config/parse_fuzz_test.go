package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// FuzzParse: no input makes Parse panic, and it returns either a config or
// errors, never both or neither.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "errors", "*.hcl"))
	seeds = append(seeds, samplePath)
	for _, s := range seeds {
		src, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Add([]byte(`analyzer { plugin "x" { config { a = [1, { b = null }], c = 1e400 } } }`))
	f.Fuzz(func(t *testing.T, src []byte) {
		c, err := Parse(src, "fuzz.hcl")
		if (c == nil) == (err == nil) {
			t.Fatalf("Parse returned config %v and error %v", c, err)
		}
		if c != nil {
			_ = c.Redacted()
		}
	})
}

// BenchmarkParseSample decodes the sample; BenchmarkParseSyntaxOnly is the
// baseline — HCL's own parse of the same bytes — so the ratio of the two is
// what decoding and checking adds.
func BenchmarkParseSample(b *testing.B) {
	src, err := os.ReadFile(samplePath)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := Parse(src, "hemostat.hcl"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseSyntaxOnly(b *testing.B) {
	src, err := os.ReadFile(samplePath)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, diags := hclsyntax.ParseConfig(src, "hemostat.hcl", hcl.InitialPos); diags.HasErrors() {
			b.Fatal(diags)
		}
	}
}
