package redact

import (
	"fmt"
	"regexp"
	"strings"
)

// Mask is what replaces a secret.
const Mask = "[REDACTED]"

// Redactor applies a fixed set of rules. It is safe for concurrent use.
type Redactor struct {
	multiline []compiled // run on the whole text
	line      []compiled // run on each line
}

type compiled struct {
	id       string
	re       *regexp.Regexp
	keywords []string
}

// New returns a Redactor with DefaultRules plus extra, Go regular
// expressions for a site's own secret shapes (run after the defaults). As
// with the rules, the first capture group that takes part in a match is
// masked, or the whole match when there is none.
func New(extra ...string) (*Redactor, error) {
	rules := DefaultRules()
	for i, e := range extra {
		rules = append(rules, Rule{ID: fmt.Sprintf("extra-%d", i+1), Regex: e})
	}
	return Compile(rules)
}

// Compile returns a Redactor for exactly rules.
func Compile(rules []Rule) (*Redactor, error) {
	r := &Redactor{}
	for _, rule := range rules {
		if rule.Regex == "" {
			return nil, fmt.Errorf("redact rule %s: empty pattern", rule.ID)
		}
		re, err := regexp.Compile(rule.Regex)
		if err != nil {
			return nil, fmt.Errorf("redact rule %s: %w", rule.ID, err)
		}
		if re.MatchString("") {
			// A pattern that matches nothing would mask between every byte.
			return nil, fmt.Errorf("redact rule %s: pattern %q matches the empty string", rule.ID, rule.Regex)
		}
		kw := make([]string, len(rule.Keywords))
		for i, k := range rule.Keywords {
			kw[i] = strings.ToLower(k)
		}
		c := compiled{id: rule.ID, re: re, keywords: kw}
		if rule.Multiline {
			r.multiline = append(r.multiline, c)
		} else {
			r.line = append(r.line, c)
		}
	}
	return r, nil
}

// String returns s with every secret the rules find replaced by Mask.
func (r *Redactor) String(s string) string {
	if s == "" {
		return s
	}
	s = applyAll(r.multiline, s)
	if !strings.Contains(s, "\n") {
		return applyAll(r.line, s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for line := range strings.SplitAfterSeq(s, "\n") {
		body := strings.TrimSuffix(line, "\n")
		b.WriteString(applyAll(r.line, body))
		b.WriteString(line[len(body):])
	}
	return b.String()
}

// applyAll runs rules over s in order, skipping a rule none of whose
// keywords s contains.
func applyAll(rules []compiled, s string) string {
	lower := strings.ToLower(s)
	for _, c := range rules {
		if !c.wanted(lower) {
			continue
		}
		if out, changed := c.apply(s); changed {
			s = out
			lower = strings.ToLower(s)
		}
	}
	return s
}

// Lines redacts each line of lines in place and returns it.
func (r *Redactor) Lines(lines []string) []string {
	for i, l := range lines {
		lines[i] = r.String(l)
	}
	return lines
}

func (c *compiled) wanted(lower string) bool {
	if len(c.keywords) == 0 {
		return true
	}
	for _, k := range c.keywords {
		if strings.Contains(lower, k) {
			return true
		}
	}
	return false
}

// apply masks, in every match, the first capture group that took part, or
// the whole match.
func (c *compiled) apply(s string) (string, bool) {
	matches := c.re.FindAllStringSubmatchIndex(s, -1)
	if matches == nil {
		return s, false
	}
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for _, m := range matches {
		start, end := m[0], m[1]
		for g := 1; 2*g+1 < len(m); g++ {
			if m[2*g] >= 0 {
				start, end = m[2*g], m[2*g+1]
				break
			}
		}
		if start < last { // cannot happen with non-overlapping matches; be safe
			continue
		}
		b.WriteString(s[last:start])
		b.WriteString(Mask)
		last = end
	}
	b.WriteString(s[last:])
	return b.String(), true
}

// defaultRedactor is built once from DefaultRules, which are tested to
// compile.
var defaultRedactor = func() *Redactor {
	r, err := New()
	if err != nil {
		panic(err)
	}
	return r
}()

// Default returns the Redactor with DefaultRules and no extra pattern.
func Default() *Redactor { return defaultRedactor }

// String redacts s with the default rules.
func String(s string) string { return defaultRedactor.String(s) }
