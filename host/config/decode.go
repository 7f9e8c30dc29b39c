package config

import (
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
)

// decoder walks a parsed file, collecting every error instead of stopping at
// the first, so one run of `hemostatd validate` shows them all.
type decoder struct {
	ctx  *hcl.EvalContext
	errs Errors
}

func newDecoder() *decoder {
	return &decoder{ctx: &hcl.EvalContext{
		Functions: map[string]function.Function{"env": envFunc},
	}}
}

func (d *decoder) errorf(pos Pos, format string, args ...any) {
	d.errs = append(d.errs, Error{Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) diags(diags hcl.Diagnostics) {
	d.errs = append(d.errs, fromDiagnostics(diags)...)
}

// content checks body against schema, reporting unknown attributes and
// blocks, and a block type that appears more than once when it may appear
// only once.
func (d *decoder) content(body hcl.Body, schema *hcl.BodySchema, repeatable ...string) *section {
	c, diags := body.Content(schema)
	d.diags(diags)
	s := &section{d: d, attrs: c.Attributes, blocks: map[string][]*hcl.Block{}}
	for _, b := range c.Blocks {
		s.blocks[b.Type] = append(s.blocks[b.Type], b)
	}
	for _, h := range schema.Blocks {
		if slices.Contains(repeatable, h.Type) {
			continue
		}
		if bs := s.blocks[h.Type]; len(bs) > 1 {
			for _, b := range bs[1:] {
				d.errorf(posOf(b.DefRange), "duplicate %s block; the first is at %s", b.Type, posOf(bs[0].DefRange))
			}
		}
	}
	return s
}

// section is one decoded body: its attributes, read with the typed getters
// below, and its nested blocks by type.
type section struct {
	d      *decoder
	attrs  hcl.Attributes
	blocks map[string][]*hcl.Block
}

// block is the only block of a type, or nil.
func (s *section) block(typ string) *hcl.Block {
	if bs := s.blocks[typ]; len(bs) > 0 {
		return bs[0]
	}
	return nil
}

// pos is the position of an attribute's value.
func (s *section) pos(name string) (Pos, bool) {
	a, ok := s.attrs[name]
	if !ok {
		return Pos{}, false
	}
	return posOf(a.Expr.Range()), true
}

// value evaluates an attribute and converts it to typ. It reports false when
// the attribute is absent, null (which keeps the default) or bad (reported).
func (s *section) value(name string, typ cty.Type) (cty.Value, Pos, bool) {
	a, ok := s.attrs[name]
	if !ok {
		return cty.NilVal, Pos{}, false
	}
	pos := posOf(a.Expr.Range())
	v, diags := a.Expr.Value(s.d.ctx)
	if diags.HasErrors() {
		s.d.diags(diags)
		return cty.NilVal, pos, false
	}
	v, _ = v.UnmarkDeep()
	if v.IsNull() {
		return cty.NilVal, pos, false
	}
	cv, err := convert.Convert(v, typ)
	if err != nil {
		s.d.errorf(pos, "%s: %s", name, err)
		return cty.NilVal, pos, false
	}
	if !cv.IsWhollyKnown() {
		s.d.errorf(pos, "%s: value is not known", name)
		return cty.NilVal, pos, false
	}
	return cv, pos, true
}

// check is a range check on a decoded value; it returns "" when the value
// is fine, else what is wrong.
type check[T any] func(T) string

func get[T any](s *section, name string, dst *T, typ cty.Type, from func(cty.Value) (T, error), checks ...check[T]) bool {
	v, pos, ok := s.value(name, typ)
	if !ok {
		return false
	}
	t, err := from(v)
	if err != nil {
		s.d.errorf(pos, "%s: %s", name, err)
		return false
	}
	for _, c := range checks {
		if msg := c(t); msg != "" {
			s.d.errorf(pos, "%s: %s", name, msg)
			return false
		}
	}
	*dst = t
	return true
}

func (s *section) str(name string, dst *string, checks ...check[string]) bool {
	return get(s, name, dst, cty.String, func(v cty.Value) (string, error) { return v.AsString(), nil }, checks...)
}

func (s *section) boolean(name string, dst *bool) bool {
	return get(s, name, dst, cty.Bool, func(v cty.Value) (bool, error) { return v.True(), nil })
}

func (s *section) number(name string, dst *float64, checks ...check[float64]) bool {
	return get(s, name, dst, cty.Number, func(v cty.Value) (float64, error) {
		f, _ := v.AsBigFloat().Float64()
		return f, nil
	}, checks...)
}

func (s *section) integer(name string, dst *int, checks ...check[int]) bool {
	return get(s, name, dst, cty.Number, func(v cty.Value) (int, error) {
		bf := v.AsBigFloat()
		// Checked before any formatting: printing 1e100000000 in decimal
		// takes minutes.
		if bf.IsInf() || bf.MantExp(nil) > 62 {
			return 0, fmt.Errorf("the number is too large")
		}
		if !bf.IsInt() {
			return 0, fmt.Errorf("a whole number is required, got %s", bf.Text('g', -1))
		}
		i, acc := bf.Int64()
		if acc != big.Exact || int64(int(i)) != i {
			return 0, fmt.Errorf("the number is too large")
		}
		return int(i), nil
	}, checks...)
}

func (s *section) strings(name string, dst *[]string, checks ...check[[]string]) bool {
	return get(s, name, dst, cty.List(cty.String), func(v cty.Value) ([]string, error) {
		out := make([]string, 0, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if e.IsNull() {
				return nil, fmt.Errorf("element %d is null", len(out))
			}
			out = append(out, e.AsString())
		}
		return out, nil
	}, checks...)
}

// duration reads a string such as "30s" or "5m" (time.ParseDuration).
func (s *section) duration(name string, dst *time.Duration, checks ...check[time.Duration]) bool {
	return get(s, name, dst, cty.String, func(v cty.Value) (time.Duration, error) {
		dur, err := time.ParseDuration(v.AsString())
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q: a number and a unit are required, such as \"30s\" or \"5m\"", v.AsString())
		}
		return dur, nil
	}, checks...)
}
