package config

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Pos is a place in a configuration file. Line and Column start at 1; a
// zero Line means the place is unknown (a built-in default, say).
type Pos struct {
	File   string
	Line   int
	Column int
}

// String is "file:line:col"; "file" when the line is unknown and
// "line:col" when the file is.
func (p Pos) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.File == "":
		return fmt.Sprintf("%d:%d", p.Line, p.Column)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column)
}

func posOf(r hcl.Range) Pos {
	return Pos{File: r.Filename, Line: r.Start.Line, Column: r.Start.Column}
}

// Error is one problem in a configuration file.
type Error struct {
	Pos Pos
	Msg string
}

func (e Error) Error() string {
	if p := e.Pos.String(); p != "" {
		return p + ": " + e.Msg
	}
	return e.Msg
}

// Errors is every problem found in a configuration file, in file order.
type Errors []Error

// Error is one "file:line:col: message" per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// sort orders errors by place in the file, keeping the order of errors found
// at the same place.
func (es Errors) sort() {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i].Pos, es[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
}

// fromDiagnostics keeps the errors of HCL's diagnostics, joining summary and
// detail into one line.
func fromDiagnostics(diags hcl.Diagnostics) Errors {
	var es Errors
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		msg := d.Summary
		if d.Detail != "" {
			msg += "; " + d.Detail
		}
		var pos Pos
		if d.Subject != nil {
			pos = posOf(*d.Subject)
		}
		es = append(es, Error{Pos: pos, Msg: msg})
	}
	return es
}
